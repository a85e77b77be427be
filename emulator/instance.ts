/** One instance: what the model stores (InstanceRecord) and what tests and actions see (InstanceView). */
import { DEFAULT_USER, Guest } from "./guest";
import { DEFAULT_REGION, type InstanceStatus, type SeedInstance } from "./seed";
import { Timeline } from "./timeline";
import type { Transition } from "./transitions";

/** The facts a record stores and a view shows as they are. */
interface InstanceFacts {
    id: string;
    region: string;
    name: string;
    osType: "linux" | "windows";
    ioOptimized: boolean;
    instanceType: string;
    imageId: string;
    creationTime: number;
    startTime: number;
    /** What DescribeInstances reports; undefined when no key pair is bound. */
    keyPairName?: string;
    /** Set by ModifyInstanceAttribute; never reported by the API. */
    password?: string;
    /** True once a start or reboot has completed since the password was set. */
    passwordEffective: boolean;
    lockedForSecurity: boolean;
    rebootCount: number;
    forcedRebootCount: number;
    startCount: number;
}

/** What a test (or an action) sees of an instance at the current clock time. */
export interface InstanceView extends InstanceFacts {
    zoneId: string;
    status: InstanceStatus;
    /** The key pair whose key logs on as root now (the newest such line of its authorized_keys). */
    effectiveKeyPairName?: string;
    tags: Record<string, string>;
    /** Per login user, the lines of `~/.ssh/authorized_keys`. */
    authorizedKeys: Record<string, string[]>;
    cloudAssistant: boolean;
    /** Inside the initialization window (ModelSettings.initializationMs). */
    initializing: boolean;
}

export interface InstanceRecord extends InstanceFacts {
    tags: Map<string, string>;
    guest: Guest;
    /** Made by RunInstances (or seeded so): subject to the initialization window. */
    fresh: boolean;
    settledStatus: InstanceStatus;
    transition?: Transition;
    /** For the lagging DescribeInstances view (ModelSettings.consistencyDelayMs). */
    statusTimeline: Timeline<InstanceStatus>;
    keyPairTimeline: Timeline<string | undefined>;
}

/** What RunInstances asks for. */
export interface LaunchRequest {
    region: string;
    imageId: string;
    instanceType: string;
    name?: string;
    keyPairName?: string;
    tags?: Record<string, string>;
}

const LINUX_IMAGE = "aliyun_3_x64_20G_alibase_20250101.vhd";
const WINDOWS_IMAGE = "win2022_21H2_x64_dtc_en-us_40G_alibase_20250101.vhd";

export function newInstanceRecord(seed: SeedInstance, now: number): InstanceRecord {
    const status = seed.status ?? "Running";
    const osType = seed.osType ?? "linux";
    return {
        id: seed.id,
        region: seed.region ?? DEFAULT_REGION,
        name: seed.name ?? seed.id,
        osType,
        ioOptimized: seed.ioOptimized ?? true,
        instanceType: seed.instanceType ?? "ecs.g7.large",
        imageId: seed.imageId ?? (osType === "windows" ? WINDOWS_IMAGE : LINUX_IMAGE),
        creationTime: now,
        startTime: now,
        keyPairName: seed.keyPairName,
        passwordEffective: false,
        lockedForSecurity: seed.lockedForSecurity ?? false,
        rebootCount: 0,
        forcedRebootCount: 0,
        startCount: 0,
        tags: new Map(Object.entries(seed.tags ?? {})),
        guest: new Guest(seed.users ?? [DEFAULT_USER], seed.authorizedKeys ?? {}, seed.cloudAssistant ?? osType === "linux"),
        fresh: seed.fresh ?? false,
        settledStatus: status,
        statusTimeline: new Timeline(now, status),
        keyPairTimeline: new Timeline(now, seed.keyPairName),
    };
}

export function viewOf(
    record: InstanceRecord,
    status: InstanceStatus,
    derived: Pick<InstanceView, "effectiveKeyPairName" | "initializing">,
): InstanceView {
    const {
        tags,
        guest,
        fresh: _fresh,
        settledStatus: _settled,
        transition: _transition,
        statusTimeline: _s,
        keyPairTimeline: _k,
        ...facts
    } = record;
    return {
        ...facts,
        ...derived,
        zoneId: `${record.region}-h`,
        status,
        tags: Object.fromEntries(tags),
        authorizedKeys: guest.snapshot(),
        cloudAssistant: guest.cloudAssistant,
    };
}
