/**
 * ECS state: regions, key pairs, instances (with their tags and guest) and their timed transitions.
 * Never sees HTTP; refuses operations by throwing the inventory's errors (errors.ts), which the
 * server turns into the envelope. Status is derived lazily from the clock (transitions.ts).
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "./clock";
import { CloudAssistant, type KnownScripts } from "./cloudassistant";
import { errors } from "./errors";
import type { Guest } from "./guest";
import { type InstanceRecord, type InstanceView, type LaunchRequest, newInstanceRecord, viewOf } from "./instance";
import { KeyPairStore, type KeyPairView } from "./keypairstore";
import { KNOWN_REGIONS } from "./regions";
import { DEFAULT_REGION, type InstanceStatus, type Seed, type SeedInstance, type SeedSettings } from "./seed";
import { type Durations, planTransition, type Transition, type TransitionKind, transitionStatus, transitionSteps } from "./transitions";

export { DEFAULT_DURATIONS, type Durations } from "./transitions";
export type { KeyPairView } from "./keypairstore";
export type { InstanceView, LaunchRequest } from "./instance";

/** Behaviours of real ECS that tests switch on (emulator option, seed `settings`, or control `POST settings`). */
export type ModelSettings = Required<SeedSettings>;

export const DEFAULT_SETTINGS: ModelSettings = { initializationMs: 0, initializingAnswer: "Initializing", consistencyDelayMs: 0 };

export interface ModelOptions {
    clock: Clock;
    /** Multiplies every duration; 0 makes transitions complete at the next read. */
    timeScale: number;
    durations: Durations;
    settings?: Partial<ModelSettings>;
    /** Scripts Cloud Assistant recognises (by SHA-256) and applies to the model; default none. */
    knownScripts?: KnownScripts;
}

/** ECS limits custom tags to 20 per resource. */
export const TAGS_PER_RESOURCE_MAX = 20;
const MINUTE_MS = 60_000;

export class EcsModel {
    private readonly instancesById = new Map<string, InstanceRecord>();
    /** Each instance's place in the order it was added: lookups by id answer in that order, as a full listing would. */
    private readonly addedOrder = new Map<string, number>();
    private added = 0;
    private readonly keyPairStore = new KeyPairStore();
    private settingsValue: ModelSettings;
    /** Cloud Assistant invocations; they change guests, so every read of an instance settles them first. */
    readonly cloudAssistant: CloudAssistant;

    constructor(
        private readonly options: ModelOptions,
        seed: Seed = {},
    ) {
        this.settingsValue = { ...DEFAULT_SETTINGS, ...options.settings };
        this.cloudAssistant = new CloudAssistant(
            options.clock,
            options.timeScale,
            (id) => this.instancesById.get(id)?.guest,
            options.knownScripts ?? new Map(),
        );
        this.reset(seed);
    }

    /** Replaces all instances and key pairs (access keys are the server's concern); seed settings apply on top. */
    reset(seed: Seed): void {
        this.instancesById.clear();
        this.addedOrder.clear();
        this.keyPairStore.clear();
        this.cloudAssistant.clear();
        if (seed.settings) this.updateSettings(seed.settings);
        for (const keyPair of seed.keyPairs ?? []) this.addKeyPair(keyPair.name, keyPair.region, keyPair.publicKey);
        for (const instance of seed.instances ?? []) this.addInstance(instance);
    }

    /** The model's clock time (transitions, invocations, heartbeats). */
    now(): number {
        return this.options.clock.now();
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
        return [...this.instancesById.values()].some(used) || this.keyPairStore.list().some(used);
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

    /**
     * The instances of `region` (every region when not given), in the order they were added. With
     * `ids`, only those (unknown ids left out), looked up by id: a call naming 100 instances costs
     * the same whether the region holds 100 or 5000.
     */
    instances(region?: string, ids?: readonly string[]): InstanceView[] {
        const records =
            ids === undefined
                ? [...this.instancesById.values()]
                : [...new Set(ids)]
                      .map((id) => this.instancesById.get(id))
                      .filter((record): record is InstanceRecord => record !== undefined)
                      .sort((a, b) => this.addedOrder.get(a.id)! - this.addedOrder.get(b.id)!);
        return records.filter((record) => region === undefined || record.region === region).map((record) => this.view(record));
    }

    /**
     * The instances as DescribeInstances shows them: key pair and status as they were
     * `consistencyDelayMs` ago (emulator choice: tags, names and StartTime show at once).
     */
    describedInstances(region: string, ids?: readonly string[]): InstanceView[] {
        const seenAt = this.options.clock.now() - this.settingsValue.consistencyDelayMs * this.options.timeScale;
        return this.instances(region, ids).map((view) => {
            const record = this.require(view.id);
            if (this.settingsValue.consistencyDelayMs <= 0) return view;
            return { ...view, status: record.statusTimeline.valueAt(seenAt), keyPairName: record.keyPairTimeline.valueAt(seenAt) };
        });
    }

    keyPairs(region?: string): KeyPairView[] {
        return this.keyPairStore.list(region);
    }

    keyPair(name: string, region: string): KeyPairView | undefined {
        return this.keyPairStore.get(name, region);
    }

    hasKeyPair(name: string, region: string): boolean {
        return this.keyPairStore.get(name, region) !== undefined;
    }

    /** Adds (or replaces) a key pair; without `publicKey`, a real ed25519 key is generated. Returns the private key when generated. */
    addKeyPair(name: string, region = DEFAULT_REGION, publicKey?: string): { keyPair: KeyPairView; privateKey?: string } {
        return this.keyPairStore.add(name, region, this.options.clock.now(), publicKey);
    }

    /** ECS refuses to delete a key pair still bound to an instance (ecs-api.md §12.1). */
    deleteKeyPair(name: string, region = DEFAULT_REGION): boolean {
        this.checkKeyPairUnbound(name, region);
        return this.keyPairStore.delete(name, region);
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
        const record = newInstanceRecord(seed, this.options.clock.now());
        const status = record.settledStatus;
        // A seeded key is taken to be the one the guest booted with.
        if (record.keyPairName !== undefined && record.osType === "linux") {
            record.guest.boot(this.keyPairStore.bootLine(record.keyPairName, record.region));
        }
        // A seeded transient status progresses as the real one would; setStatus() is the sticky way.
        if (status === "Pending") this.begin(record, "create", false);
        if (status === "Starting") this.begin(record, "start", false);
        if (status === "Stopping") this.begin(record, "stop", false);
        this.instancesById.set(record.id, record);
        if (!this.addedOrder.has(record.id)) this.addedOrder.set(record.id, this.added++);
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
            if (record.osType === "linux")
                record.guest.boot(record.keyPairName && this.keyPairStore.bootLine(record.keyPairName, record.region));
            if (record.password !== undefined) record.passwordEffective = true;
            // ECS gives StartTime to the minute (ecs-api.md §12.3). Emulator choice: it moves on every
            // start even on a scaled clock, so that "StartTime changed" always means "started since".
            record.startTime = Math.max(completedAt, floorToMinute(record.startTime) + MINUTE_MS);
        }
    }

    private require(id: string): InstanceRecord {
        const record = this.instancesById.get(id);
        if (!record) throw errors.instanceNotFound(id);
        return record;
    }

    private view(record: InstanceRecord): InstanceView {
        this.cloudAssistant.settle();
        const status = this.statusOf(record);
        return viewOf(record, status, {
            effectiveKeyPairName: this.keyPairStore.nameOfNewest(record.guest.keys()),
            initializing: this.isInitializing(record.id),
        });
    }
}

function floorToMinute(epochMs: number): number {
    return Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
}
