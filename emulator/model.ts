/**
 * ECS state: regions, key pairs, instances (with their tags and guest) and their timed transitions.
 * Never sees HTTP; refuses operations by throwing the inventory's errors (errors.ts), which the
 * server turns into the envelope. Status is derived lazily from the clock (transitions.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "./clock";
import { errors } from "./errors";
import { DEFAULT_USER, Guest } from "./guest";
import { fingerprintOf, generateOpenSshKeyPair, keyOf } from "./publickeys";
import { KNOWN_REGIONS } from "./regions";
import { DEFAULT_REGION, type InstanceStatus, type Seed, type SeedInstance, type SeedSettings } from "./seed";
import { Timeline } from "./timeline";
import { type Durations, planTransition, type Transition, type TransitionKind, transitionStatus, transitionSteps } from "./transitions";

export { DEFAULT_DURATIONS, type Durations } from "./transitions";

/** Behaviours of real ECS that tests switch on (emulator option, seed `settings`, or control `POST settings`). */
export type ModelSettings = Required<SeedSettings>;

export const DEFAULT_SETTINGS: ModelSettings = { initializationMs: 0, initializingAnswer: "Initializing", consistencyDelayMs: 0 };

export interface ModelOptions {
    clock: Clock;
    /** Multiplies every duration; 0 makes transitions complete at the next read. */
    timeScale: number;
    durations: Durations;
    settings?: Partial<ModelSettings>;
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
    imageId: string;
    creationTime: number;
    startTime: number;
    /** What DescribeInstances reports; undefined when no key pair is bound. */
    keyPairName?: string;
    /** The key pair whose key logs on as root now (the newest such line of its authorized_keys). */
    effectiveKeyPairName?: string;
    /** Set by ModifyInstanceAttribute; never reported by the API. */
    password?: string;
    /** True once a start or reboot has completed since the password was set. */
    passwordEffective: boolean;
    lockedForSecurity: boolean;
    rebootCount: number;
    forcedRebootCount: number;
    startCount: number;
    tags: Record<string, string>;
    /** Per login user, the lines of `~/.ssh/authorized_keys`. */
    authorizedKeys: Record<string, string[]>;
    cloudAssistant: boolean;
    /** Inside the initialization window (ModelSettings.initializationMs). */
    initializing: boolean;
}

export interface KeyPairView {
    name: string;
    region: string;
    creationTime: number;
    /** One OpenSSH line, `type base64 comment`. */
    publicKey: string;
    fingerprint: string;
}

interface InstanceRecord {
    id: string;
    region: string;
    name: string;
    osType: "linux" | "windows";
    ioOptimized: boolean;
    instanceType: string;
    imageId: string;
    creationTime: number;
    startTime: number;
    keyPairName?: string;
    password?: string;
    passwordEffective: boolean;
    lockedForSecurity: boolean;
    rebootCount: number;
    forcedRebootCount: number;
    startCount: number;
    tags: Map<string, string>;
    guest: Guest;
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

/** ECS limits custom tags to 20 per resource. */
export const TAGS_PER_RESOURCE_MAX = 20;
const MINUTE_MS = 60_000;

export class EcsModel {
    private readonly instancesById = new Map<string, InstanceRecord>();
    private readonly keyPairsByKey = new Map<string, KeyPairView>();
    /** Every public key ever held, to name the key pair behind an authorized_keys line (even once deleted). */
    private readonly keyPairOfKey = new Map<string, string>();
    private settingsValue: ModelSettings;

    constructor(
        private readonly options: ModelOptions,
        seed: Seed = {},
    ) {
        this.settingsValue = { ...DEFAULT_SETTINGS, ...options.settings };
        this.reset(seed);
    }

    /** Replaces all instances and key pairs (access keys are the server's concern); seed settings apply on top. */
    reset(seed: Seed): void {
        this.instancesById.clear();
        this.keyPairsByKey.clear();
        if (seed.settings) this.updateSettings(seed.settings);
        for (const keyPair of seed.keyPairs ?? []) this.addKeyPair(keyPair.name, keyPair.region, keyPair.publicKey);
        for (const instance of seed.instances ?? []) this.addInstance(instance);
    }

    settings(): ModelSettings {
        return { ...this.settingsValue };
    }

    updateSettings(settings: Partial<ModelSettings>): ModelSettings {
        this.settingsValue = { ...this.settingsValue, ...settings };
        return this.settings();
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

    /**
     * The instances as DescribeInstances shows them: key pair and status as they were
     * `consistencyDelayMs` ago (emulator choice: tags, names and StartTime show at once).
     */
    describedInstances(region: string): InstanceView[] {
        const seenAt = this.options.clock.now() - this.settingsValue.consistencyDelayMs * this.options.timeScale;
        return this.instances(region).map((view) => {
            const record = this.require(view.id);
            if (this.settingsValue.consistencyDelayMs <= 0) return view;
            return { ...view, status: record.statusTimeline.valueAt(seenAt), keyPairName: record.keyPairTimeline.valueAt(seenAt) };
        });
    }

    keyPairs(region?: string): KeyPairView[] {
        return [...this.keyPairsByKey.values()]
            .filter((keyPair) => region === undefined || keyPair.region === region)
            .map((keyPair) => ({ ...keyPair }));
    }

    keyPair(name: string, region: string): KeyPairView | undefined {
        const keyPair = this.keyPairsByKey.get(keyPairKey(name, region));
        return keyPair && { ...keyPair };
    }

    hasKeyPair(name: string, region: string): boolean {
        return this.keyPairsByKey.has(keyPairKey(name, region));
    }

    /** Adds (or replaces) a key pair; without `publicKey`, a real ed25519 key is generated. Returns the private key when generated. */
    addKeyPair(name: string, region = DEFAULT_REGION, publicKey?: string): { keyPair: KeyPairView; privateKey?: string } {
        const generated = publicKey === undefined ? generateOpenSshKeyPair(name) : undefined;
        const line = publicKey ?? generated?.publicKey ?? "";
        const keyPair: KeyPairView = {
            name,
            region,
            creationTime: this.options.clock.now(),
            publicKey: line,
            fingerprint: fingerprintOf(line),
        };
        this.keyPairsByKey.set(keyPairKey(name, region), keyPair);
        const key = keyOf(line);
        if (key !== undefined) this.keyPairOfKey.set(key, name);
        return { keyPair: { ...keyPair }, privateKey: generated?.privateKey };
    }

    /** ECS refuses to delete a key pair still bound to an instance (ecs-api.md §12.1). */
    deleteKeyPair(name: string, region = DEFAULT_REGION): boolean {
        this.checkKeyPairUnbound(name, region);
        return this.keyPairsByKey.delete(keyPairKey(name, region));
    }

    checkKeyPairUnbound(name: string, region = DEFAULT_REGION): void {
        const holders = [...this.instancesById.values()].filter((record) => record.region === region && record.keyPairName === name);
        if (holders.length > 0)
            throw errors.keyPairAttached(
                name,
                holders.map((record) => record.id),
            );
    }

    addInstance(seed: SeedInstance): InstanceView {
        const now = this.options.clock.now();
        const region = seed.region ?? DEFAULT_REGION;
        const status = seed.status ?? "Running";
        const osType = seed.osType ?? "linux";
        const record: InstanceRecord = {
            id: seed.id,
            region,
            name: seed.name ?? seed.id,
            settledStatus: status,
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
            statusTimeline: new Timeline(now, status),
            keyPairTimeline: new Timeline(now, seed.keyPairName),
        };
        // A seeded key is taken to be the one the guest booted with.
        if (seed.keyPairName !== undefined && osType === "linux") record.guest.boot(this.publicKeyOf(seed.keyPairName, region));
        // A seeded transient status progresses as the real one would; setStatus() is the sticky way.
        if (status === "Pending") this.begin(record, "create", false);
        if (status === "Starting") this.begin(record, "start", false);
        if (status === "Stopping") this.begin(record, "stop", false);
        this.instancesById.set(record.id, record);
        return this.view(record);
    }

    /** RunInstances: a new instance, Pending → Starting → Running, inside its initialization window. */
    launchInstance(request: LaunchRequest): InstanceView {
        if (request.keyPairName !== undefined && !this.hasKeyPair(request.keyPairName, request.region)) {
            throw errors.keyPairNotFound(request.keyPairName);
        }
        const id = `i-${randomBytes(12).toString("hex").slice(0, 20)}`;
        const osType = /win/i.test(request.imageId) ? "windows" : "linux";
        this.addInstance({
            id,
            region: request.region,
            name: request.name,
            osType,
            imageId: request.imageId,
            fresh: true,
            tags: request.tags,
        });
        const record = this.require(id);
        record.instanceType = request.instanceType;
        record.settledStatus = "Pending";
        record.keyPairName = request.keyPairName;
        record.keyPairTimeline.set(record.creationTime, request.keyPairName);
        this.begin(record, "launch", false);
        return this.view(record);
    }

    deleteInstance(id: string): boolean {
        return this.instancesById.delete(id);
    }

    /** DeleteInstances: only Stopped instances, unless forced (then any status). */
    checkDeletable(id: string, force: boolean): void {
        const record = this.checkUnlocked(this.require(id));
        const status = this.statusOf(record);
        if (!force && status !== "Stopped") throw errors.incorrectStatus(id, status);
    }

    /** Forces a status with no transition: e.g. an instance stuck in Starting forever. */
    setStatus(id: string, status: InstanceStatus): void {
        const record = this.require(id);
        record.transition = undefined;
        record.settledStatus = status;
        record.statusTimeline.set(this.options.clock.now(), status);
    }

    setLockedForSecurity(id: string, locked: boolean): void {
        this.require(id).lockedForSecurity = locked;
    }

    setCloudAssistant(id: string, online: boolean): void {
        this.require(id).guest.cloudAssistant = online;
    }

    /** The guest of an instance (authorized_keys and agent), for Cloud Assistant effects. */
    guestOf(id: string): Guest {
        return this.require(id).guest;
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
        this.setKeyPair(record, keyPairName);
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
        if (keyPairName !== undefined && record.keyPairName !== keyPairName) throw errors.keyPairNotMatch(id, keyPairName);
        this.setKeyPair(record, undefined);
    }

    private setKeyPair(record: InstanceRecord, keyPairName: string | undefined): void {
        record.keyPairName = keyPairName;
        record.keyPairTimeline.set(this.options.clock.now(), keyPairName);
    }

    private checkKeyPairChange(record: InstanceRecord): void {
        if (record.osType === "windows") throw errors.windowsInstance(record.id);
        if (!record.ioOptimized) throw errors.notIoOptimized(record.id);
        if (record.lockedForSecurity) throw errors.lockedForSecurity(record.id);
        this.checkInitialized(record);
        const status = this.statusOf(record);
        if (status !== "Running" && status !== "Stopped") throw errors.incorrectStatus(record.id, status);
    }

    /** True while a fresh instance is in its initialization window. */
    isInitializing(id: string): boolean {
        const record = this.require(id);
        return (
            record.fresh && this.options.clock.now() < record.creationTime + this.settingsValue.initializationMs * this.options.timeScale
        );
    }

    private checkInitialized(record: InstanceRecord): void {
        if (this.isInitializing(record.id)) throw errors.initializing(record.id);
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

    /** Adds or overwrites tags; at most TAGS_PER_RESOURCE_MAX per instance, checked before any change. */
    tagInstance(id: string, tags: Readonly<Record<string, string>>): void {
        this.checkTagQuota(id, tags);
        const record = this.require(id);
        for (const [key, value] of Object.entries(tags)) record.tags.set(key, value);
    }

    checkTagQuota(id: string, tags: Readonly<Record<string, string>>): void {
        const keys = new Set([...this.require(id).tags.keys(), ...Object.keys(tags)]);
        if (keys.size > TAGS_PER_RESOURCE_MAX) throw errors.tagQuotaExceeded(id);
    }

    /** Removes the given tag keys, or every tag when `keys` is undefined. */
    untagInstance(id: string, keys: readonly string[] | undefined): void {
        const record = this.require(id);
        if (keys === undefined) record.tags.clear();
        else for (const key of keys) record.tags.delete(key);
    }

    /** Throws the error RebootInstance(s) would give for this instance; used for all-or-nothing batches. */
    checkRebootable(id: string): void {
        const record = this.require(id);
        this.checkUnlocked(record);
        this.checkInitialized(record);
        this.checkStatus(record, "Running");
    }

    checkStartable(id: string): void {
        this.checkStatus(this.require(id), "Stopped");
    }

    checkStoppable(id: string): void {
        this.checkStatus(this.require(id), "Running");
    }

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
        const transition = planTransition(kind, forced, this.options.clock.now(), this.options.durations, this.options.timeScale);
        record.transition = transition;
        const [first, ...later] = transitionSteps(transition);
        record.statusTimeline.set(first.at, first.status);
        for (const step of later) record.statusTimeline.plan(step.at, step.status);
    }

    /** Current status; completes a finished transition first, applying what a boot applies. */
    private statusOf(record: InstanceRecord): InstanceStatus {
        const transition = record.transition;
        if (!transition) return record.settledStatus;
        const state = transitionStatus(transition, this.options.clock.now());
        if ("status" in state) return state.status;
        this.complete(record, transition, state.completedAt);
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
            if (record.osType === "linux") record.guest.boot(record.keyPairName && this.publicKeyOf(record.keyPairName, record.region));
            if (record.password !== undefined) record.passwordEffective = true;
            // ECS gives StartTime to the minute (ecs-api.md §12.3). Emulator choice: it moves on every
            // start even on a scaled clock, so that "StartTime changed" always means "started since".
            record.startTime = Math.max(completedAt, floorToMinute(record.startTime) + MINUTE_MS);
        }
    }

    /**
     * The line a boot writes for a key pair. A seed may bind a key pair it does not define: the guest
     * then gets a stand-in key, still named after it, so the effective key stays observable.
     */
    private publicKeyOf(keyPairName: string, region: string): string {
        const known = this.keyPairsByKey.get(keyPairKey(keyPairName, region))?.publicKey;
        if (known !== undefined) return known;
        const blob = createHash("sha256").update(keyPairKey(keyPairName, region)).digest("base64");
        const standIn = `ssh-ed25519 ${blob} ${keyPairName}`;
        this.keyPairOfKey.set(keyOf(standIn) ?? standIn, keyPairName);
        return standIn;
    }

    private require(id: string): InstanceRecord {
        const record = this.instancesById.get(id);
        if (!record) throw errors.instanceNotFound(id);
        return record;
    }

    private view(record: InstanceRecord): InstanceView {
        const status = this.statusOf(record);
        const rootKeys = record.guest.keys();
        const effectiveKey = rootKeys.reverse().find((key) => this.keyPairOfKey.has(key));
        return {
            id: record.id,
            region: record.region,
            zoneId: `${record.region}-h`,
            name: record.name,
            status,
            osType: record.osType,
            ioOptimized: record.ioOptimized,
            instanceType: record.instanceType,
            imageId: record.imageId,
            creationTime: record.creationTime,
            startTime: record.startTime,
            keyPairName: record.keyPairName,
            effectiveKeyPairName: effectiveKey && this.keyPairOfKey.get(effectiveKey),
            password: record.password,
            passwordEffective: record.passwordEffective,
            lockedForSecurity: record.lockedForSecurity,
            rebootCount: record.rebootCount,
            forcedRebootCount: record.forcedRebootCount,
            startCount: record.startCount,
            tags: Object.fromEntries(record.tags),
            authorizedKeys: record.guest.snapshot(),
            cloudAssistant: record.guest.cloudAssistant,
            initializing: this.isInitializing(record.id),
        };
    }
}

const LINUX_IMAGE = "aliyun_3_x64_20G_alibase_20250101.vhd";
const WINDOWS_IMAGE = "win2022_21H2_x64_dtc_en-us_40G_alibase_20250101.vhd";

function floorToMinute(epochMs: number): number {
    return Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
}

function keyPairKey(name: string, region: string): string {
    return `${region}\u0000${name}`;
}
