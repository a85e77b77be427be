/**
 * ECS state: regions, key pairs, instances and their timed transitions. Never sees HTTP; refuses
 * operations by throwing `EcsError` with the ECS code, which the server turns into the envelope.
 *
 * Status is derived lazily from the clock: an operation stores its transition plan (phases with
 * durations) and every read settles it. There are no timers, so a test driving a `ManualClock`
 * walks a reboot step by step without sleeping.
 */
import type { Clock } from "./clock";
import { errors } from "./errors";
import { DEFAULT_REGION, type InstanceStatus, type Seed, type SeedInstance } from "./seed";

export interface Durations {
    stoppingMs: number;
    startingMs: number;
    pendingMs: number;
}

export const DEFAULT_DURATIONS: Durations = { stoppingMs: 3000, startingMs: 5000, pendingMs: 2000 };

export interface ModelOptions {
    clock: Clock;
    /** Multiplies every duration; 0 makes transitions complete at the next read. */
    timeScale: number;
    durations: Durations;
}

/** What a test (or an action) sees of an instance at the current clock time. */
export interface InstanceView {
    id: string;
    region: string;
    zoneId: string;
    name: string;
    status: InstanceStatus;
    osType: "linux" | "windows";
    ioOptimized: boolean;
    instanceType: string;
    creationTime: number;
    startTime: number;
    /** What DescribeInstances reports; undefined when no key pair is bound. */
    keyPairName?: string;
    /** The key actually in the guest: follows keyPairName only when a start or reboot completes. */
    effectiveKeyPairName?: string;
    /** Set by ModifyInstanceAttribute; never reported by the API. */
    password?: string;
    /** True once a start or reboot has completed since the password was set. */
    passwordEffective: boolean;
    lockedForSecurity: boolean;
    rebootCount: number;
    forcedRebootCount: number;
    startCount: number;
}

export interface KeyPairView {
    name: string;
    region: string;
    creationTime: number;
}

type TransitionKind = "create" | "start" | "stop" | "reboot";

interface Transition {
    kind: TransitionKind;
    forced: boolean;
    startedAt: number;
    phases: { status: InstanceStatus; durationMs: number }[];
    final: InstanceStatus;
}

interface InstanceRecord extends Omit<InstanceView, "status"> {
    settledStatus: InstanceStatus;
    transition?: Transition;
}

/** Regions a request may name even when the seed puts nothing there (an empty region is valid). */
const KNOWN_REGIONS = [
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-shenzhen",
    "cn-qingdao",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-chengdu",
    "cn-hongkong",
    "ap-southeast-1",
    "ap-southeast-5",
    "ap-northeast-1",
    "eu-central-1",
    "eu-west-1",
    "us-west-1",
    "us-east-1",
];

export class EcsModel {
    private readonly instancesById = new Map<string, InstanceRecord>();
    private readonly keyPairsByKey = new Map<string, KeyPairView>();

    constructor(
        private readonly options: ModelOptions,
        seed: Seed = {},
    ) {
        this.reset(seed);
    }

    /** Replaces all instances and key pairs (access keys are the server's concern). */
    reset(seed: Seed): void {
        this.instancesById.clear();
        this.keyPairsByKey.clear();
        for (const keyPair of seed.keyPairs ?? []) this.addKeyPair(keyPair.name, keyPair.region);
        for (const instance of seed.instances ?? []) this.addInstance(instance);
    }

    isKnownRegion(region: string): boolean {
        if (KNOWN_REGIONS.includes(region)) return true;
        const used = (r: { region: string }) => r.region === region;
        return [...this.instancesById.values()].some(used) || [...this.keyPairsByKey.values()].some(used);
    }

    instance(id: string): InstanceView | undefined {
        const record = this.instancesById.get(id);
        return record && this.view(record);
    }

    /** The instance as a request scoped to `region` sees it: other regions are invisible. */
    instanceIn(region: string, id: string): InstanceView | undefined {
        const view = this.instance(id);
        return view?.region === region ? view : undefined;
    }

    instances(region?: string): InstanceView[] {
        return [...this.instancesById.values()]
            .filter((record) => region === undefined || record.region === region)
            .map((record) => this.view(record));
    }

    keyPairs(region?: string): KeyPairView[] {
        return [...this.keyPairsByKey.values()]
            .filter((keyPair) => region === undefined || keyPair.region === region)
            .map((keyPair) => ({ ...keyPair }));
    }

    hasKeyPair(name: string, region: string): boolean {
        return this.keyPairsByKey.has(keyPairKey(name, region));
    }

    addKeyPair(name: string, region = DEFAULT_REGION): void {
        this.keyPairsByKey.set(keyPairKey(name, region), { name, region, creationTime: this.options.clock.now() });
    }

    /**
     * Emulator choice (real ECS behaviour unconfirmed): deleting a key pair unbinds it from every
     * instance of its region, so DescribeInstances never reports a name DescribeKeyPairs cannot find.
     * The guest keeps the key (effectiveKeyPairName) until its next start or reboot, as for a detach.
     */
    deleteKeyPair(name: string, region = DEFAULT_REGION): boolean {
        for (const record of this.instancesById.values()) {
            if (record.region === region && record.keyPairName === name) record.keyPairName = undefined;
        }
        return this.keyPairsByKey.delete(keyPairKey(name, region));
    }

    addInstance(seed: SeedInstance): InstanceView {
        const now = this.options.clock.now();
        const region = seed.region ?? DEFAULT_REGION;
        const status = seed.status ?? "Running";
        const record: InstanceRecord = {
            id: seed.id,
            region,
            zoneId: `${region}-h`,
            name: seed.name ?? seed.id,
            settledStatus: status,
            osType: seed.osType ?? "linux",
            ioOptimized: seed.ioOptimized ?? true,
            instanceType: "ecs.g7.large",
            creationTime: now,
            startTime: now,
            keyPairName: seed.keyPairName,
            // A seeded key is taken to be the one the guest booted with.
            effectiveKeyPairName: seed.keyPairName,
            passwordEffective: false,
            lockedForSecurity: seed.lockedForSecurity ?? false,
            rebootCount: 0,
            forcedRebootCount: 0,
            startCount: 0,
        };
        // A seeded transient status progresses as the real one would; setStatus() is the sticky way.
        if (status === "Pending") this.begin(record, "create", false);
        if (status === "Starting") this.begin(record, "start", false);
        if (status === "Stopping") this.begin(record, "stop", false);
        this.instancesById.set(record.id, record);
        return this.view(record);
    }

    deleteInstance(id: string): boolean {
        return this.instancesById.delete(id);
    }

    /** Forces a status with no transition: e.g. an instance stuck in Starting forever. */
    setStatus(id: string, status: InstanceStatus): void {
        const record = this.require(id);
        record.transition = undefined;
        record.settledStatus = status;
    }

    setLockedForSecurity(id: string, locked: boolean): void {
        this.require(id).lockedForSecurity = locked;
    }

    /**
     * Binds a key pair (AttachKeyPair or a console change). DescribeInstances reports it at once; the
     * guest gets it at the next start or reboot (ecs-api.md §4). One key per instance: a new one
     * replaces the old. Only Running and Stopped instances accept it (§11: other states unsupported).
     */
    attachKeyPair(id: string, keyPairName: string): void {
        const record = this.require(id);
        if (!this.hasKeyPair(keyPairName, record.region)) throw errors.keyPairNotFound(keyPairName);
        this.checkKeyPairChange(record);
        record.keyPairName = keyPairName;
    }

    /**
     * Unbinds the instance's key pair. With `keyPairName`, the instance must hold that key or none:
     * none is a successful no-op; another key is refused with `InvalidKeyPairName.NotMatch`
     * (emulator choice; ECS behaviour for this case is unconfirmed, ecs-api.md §11).
     */
    detachKeyPair(id: string, keyPairName?: string): void {
        const record = this.require(id);
        this.checkKeyPairChange(record);
        if (record.keyPairName === undefined) return;
        if (keyPairName !== undefined && record.keyPairName !== keyPairName) {
            throw errors.keyPairNotMatch(id, keyPairName);
        }
        record.keyPairName = undefined;
    }

    private checkKeyPairChange(record: InstanceRecord): void {
        if (record.osType === "windows") throw errors.windowsInstance(record.id);
        if (!record.ioOptimized) throw errors.notIoOptimized(record.id);
        if (record.lockedForSecurity) throw errors.lockedForSecurity(record.id);
        const status = this.statusOf(record);
        if (status !== "Running" && status !== "Stopped") throw errors.incorrectStatus(record.id, status);
    }

    setInstanceName(id: string, name: string): void {
        this.checkUnlocked(this.require(id)).name = name;
    }

    /** Stores a new password; like a key, it reaches the guest at the next start or reboot (D-MIA). */
    setPassword(id: string, password: string): void {
        const record = this.checkUnlocked(this.require(id));
        const status = this.statusOf(record);
        // D-MIA: "the instance must not be Starting" when the password changes.
        if (status === "Starting") throw errors.incorrectStatus(id, status);
        record.password = password;
        record.passwordEffective = false;
    }

    /** Throws the error RebootInstance(s) would give for this instance; used for all-or-nothing batches. */
    checkRebootable(id: string): void {
        this.checkStatus(this.require(id), "Running");
    }

    checkStartable(id: string): void {
        this.checkStatus(this.require(id), "Stopped");
    }

    checkStoppable(id: string): void {
        this.checkStatus(this.require(id), "Running");
    }

    /** Running → Stopping → Starting → Running (ecs-api.md §3 reconciles the docs' variants this way). */
    rebootInstance(id: string, force = false): void {
        this.checkRebootable(id);
        this.begin(this.require(id), "reboot", force);
    }

    /** Stopped → Starting → Running. */
    startInstance(id: string): void {
        this.checkStartable(id);
        this.begin(this.require(id), "start", false);
    }

    /** Running → Stopping → Stopped. */
    stopInstance(id: string, force = false): void {
        this.checkStoppable(id);
        this.begin(this.require(id), "stop", force);
    }

    private checkStatus(record: InstanceRecord, required: InstanceStatus): void {
        this.checkUnlocked(record);
        const status = this.statusOf(record);
        if (status !== required) throw errors.incorrectStatus(record.id, status);
    }

    private checkUnlocked(record: InstanceRecord): InstanceRecord {
        if (record.lockedForSecurity) throw errors.lockedForSecurity(record.id);
        return record;
    }

    private begin(record: InstanceRecord, kind: TransitionKind, forced: boolean): void {
        const { stoppingMs, startingMs, pendingMs } = this.options.durations;
        const scaled = (ms: number) => ms * this.options.timeScale;
        const plans: Record<TransitionKind, Pick<Transition, "phases" | "final">> = {
            create: { phases: [{ status: "Pending", durationMs: scaled(pendingMs) }], final: "Running" },
            start: { phases: [{ status: "Starting", durationMs: scaled(startingMs) }], final: "Running" },
            stop: { phases: [{ status: "Stopping", durationMs: scaled(stoppingMs) }], final: "Stopped" },
            reboot: {
                phases: [
                    { status: "Stopping", durationMs: scaled(stoppingMs) },
                    { status: "Starting", durationMs: scaled(startingMs) },
                ],
                final: "Running",
            },
        };
        record.transition = { kind, forced, startedAt: this.options.clock.now(), ...plans[kind] };
    }

    /** Current status; completes a finished transition first, applying what a boot applies. */
    private statusOf(record: InstanceRecord): InstanceStatus {
        const transition = record.transition;
        if (!transition) return record.settledStatus;
        let phaseEnd = transition.startedAt;
        const now = this.options.clock.now();
        for (const phase of transition.phases) {
            phaseEnd += phase.durationMs;
            if (now < phaseEnd) return phase.status;
        }
        this.complete(record, transition, phaseEnd);
        return record.settledStatus;
    }

    private complete(record: InstanceRecord, transition: Transition, completedAt: number): void {
        record.transition = undefined;
        record.settledStatus = transition.final;
        if (transition.kind === "reboot") {
            record.rebootCount += 1;
            if (transition.forced) record.forcedRebootCount += 1;
        }
        if (transition.kind === "start") record.startCount += 1;
        if (transition.final === "Running") {
            // The guest boots: it picks up the bound key pair and the new password (ecs-api.md §4, D-MIA).
            record.effectiveKeyPairName = record.keyPairName;
            if (record.password !== undefined) record.passwordEffective = true;
            record.startTime = completedAt;
        }
    }

    private require(id: string): InstanceRecord {
        const record = this.instancesById.get(id);
        if (!record) throw errors.instanceNotFound(id);
        return record;
    }

    private view(record: InstanceRecord): InstanceView {
        const status = this.statusOf(record);
        const { settledStatus: _settled, transition: _transition, ...fields } = record;
        return { ...fields, status };
    }
}

function keyPairKey(name: string, region: string): string {
    return `${region}\u0000${name}`;
}
