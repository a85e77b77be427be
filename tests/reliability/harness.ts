/**
 * Shared by the reliability tests: a lifecycle wired to an in-process emulator through the real SDK
 * (with the settings, retry options and call timeouts a test chooses), and the one assertion every
 * fault case ends with — the emulator holds exactly what the hook returned, or what its
 * PartialBindingError carried.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { DEFAULT_ACCESS_KEY, Emulator, EmulatorOptions, InstanceView, Seed, startEmulator } from "../../emulator";
import { ConfigSource, ProviderSettings, resolveSettings } from "../../provider/config";
import { CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, SdkEcsGateway } from "../../provider/ecs/gateway";
import { DEFAULT_RETRY_OPTIONS, RetryBudget, RetryOptions } from "../../provider/ecs/retry";
import { FileRestartJournal } from "../../provider/journal";
import { KeyPairAttachmentHooks, PartialBindingError, createLifecycle } from "../../provider/lifecycle";
import { realClock } from "../../provider/clock";
import { RestartHistory } from "../../provider/restart";
import { REGION, TIME_SCALE } from "../integration/fixture";

export { FAST_RESTART, REGION, inputs, linuxInstances } from "../integration/fixture";

/** Real retries with the production attempt cap, but millisecond backoffs. */
export function quickRetry(overrides: Partial<RetryOptions> = {}): RetryOptions {
    return {
        ...DEFAULT_RETRY_OPTIONS,
        baseDelayMs: 10,
        throttlingBaseDelayMs: 20,
        maxDelayMs: 100,
        budget: new RetryBudget(),
        ...overrides,
    };
}

export interface RigOptions {
    emulator?: EmulatorOptions;
    /** Stack configuration; default: region and the emulator's default access key. */
    config?: Record<string, string>;
    /** Environment given to resolveSettings (the endpoint is always added). */
    env?: NodeJS.ProcessEnv;
    retry?: Partial<RetryOptions>;
    timeouts?: { connectTimeoutMs: number; readTimeoutMs: number };
}

export interface Rig {
    emulator: Emulator;
    hooks: KeyPairAttachmentHooks;
    settings: ProviderSettings;
    /** Every line the lifecycle logged. */
    logs: string[];
    close(): Promise<void>;
}

/** Provider settings for an endpoint, resolved as the provider resolves them (config.ts). */
export function settingsFor(url: string, config?: Record<string, string>, env: NodeJS.ProcessEnv = {}): ProviderSettings {
    const values = config ?? {
        "alicloud:region": REGION,
        "alicloud:accessKey": DEFAULT_ACCESS_KEY.accessKeyId,
        "alicloud:secretKey": DEFAULT_ACCESS_KEY.accessKeySecret,
    };
    const source: ConfigSource = { get: (key) => values[key] };
    return resolveSettings(source, { ...env, ALIBABA_CLOUD_ECS_ENDPOINT: url });
}

export async function startRig(seed: Seed, options: RigOptions = {}): Promise<Rig> {
    const emulator = await startEmulator({ timeScale: TIME_SCALE, ...options.emulator, seed });
    const settings = settingsFor(emulator.url, options.config, options.env);
    const timeouts = options.timeouts ?? { connectTimeoutMs: CONNECT_TIMEOUT_MS, readTimeoutMs: READ_TIMEOUT_MS };
    const gateway = new SdkEcsGateway(settings, quickRetry(options.retry), timeouts);
    const logs: string[] = [];
    const restartHistory = new RestartHistory();
    const journal = new FileRestartJournal(fs.mkdtempSync(path.join(os.tmpdir(), "kpa-journal-")));
    const hooks = createLifecycle(() => ({ settings, gateway, clock: realClock, restartHistory, journal, log: (line) => logs.push(line) }));
    return { emulator, hooks, settings, logs, close: () => emulator.close() };
}

export type Snapshot = Map<string, InstanceView>;

export function snapshot(emulator: Emulator): Snapshot {
    return new Map(emulator.model.instances().map((i) => [i.id, { ...i }]));
}

/** The outputs a hook returned, or those its PartialBindingError carried; `error` when it failed. */
export interface HookResult {
    outs?: Record<string, any>;
    error?: any;
}

export async function settle(run: Promise<{ outs: object }>): Promise<HookResult> {
    try {
        return { outs: (await run).outs as Record<string, any> };
    } catch (error) {
        return { outs: error instanceof PartialBindingError ? (error.properties as Record<string, any>) : undefined, error };
    }
}

export interface MatchOptions {
    /** Instances the test itself changed (deleted, stopped, held in Starting): their power state is not checked. */
    touched?: string[];
    /** Instances whose restart was cut off (timed out): rebooted at most once, key in effect not required. */
    cutOff?: string[];
}

/**
 * The emulator's state matches what a hook returned (or carried in its partial-state error):
 * - instances in `instanceIds` hold the key, no other instance changed its binding, except those
 *   listed as unbound (`passwordResetRequiredInstanceIds`);
 * - each instance in `restartedInstanceIds` was rebooted exactly once, is Running and runs the key;
 * - no other instance was rebooted (unless its restart was cut off) or started.
 * Without outputs (a failure that changed nothing) every instance must be as it was.
 */
export function expectStateMatches(emulator: Emulator, before: Snapshot, result: HookResult, options: MatchOptions = {}): void {
    const touched = new Set(options.touched ?? []);
    const cutOff = new Set(options.cutOff ?? []);
    const outs = result.outs;
    const bound = new Set<string>(outs?.instanceIds ?? []);
    const restarted = new Set<string>(outs?.restartedInstanceIds ?? []);
    const unbound = new Set<string>(outs?.passwordResetRequiredInstanceIds ?? []);
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => ok || problems.push(what);
    for (const now of emulator.model.instances()) {
        const was = before.get(now.id);
        if (!was) continue;
        const id = now.id;
        if (bound.has(id)) check(now.keyPairName === outs!.keyPairName, `${id} should hold ${outs!.keyPairName}, holds ${now.keyPairName}`);
        else if (unbound.has(id) && was.keyPairName === outs?.keyPairName)
            check(now.keyPairName === undefined, `${id} should be unbound, holds ${now.keyPairName}`);
        else
            check(
                now.keyPairName === was.keyPairName,
                `${id} binding changed ${was.keyPairName} → ${now.keyPairName} but the result does not say so`,
            );
        check(now.startCount === was.startCount, `${id} was started`);
        const reboots = now.rebootCount - was.rebootCount;
        if (restarted.has(id)) {
            check(reboots === 1, `${id} restarted ${reboots} times, expected once`);
            check(now.status === "Running", `${id} restarted but ${now.status}`);
            check(now.effectiveKeyPairName === now.keyPairName, `${id} restarted but runs key ${now.effectiveKeyPairName}`);
        } else if (cutOff.has(id) || touched.has(id)) {
            check(reboots <= 1, `${id} rebooted ${reboots} times`);
        } else {
            check(reboots === 0, `${id} rebooted ${reboots} times but is not in restartedInstanceIds`);
            check(now.effectiveKeyPairName === was.effectiveKeyPairName, `${id} guest key changed without a restart`);
            check(now.status === was.status, `${id} status ${was.status} → ${now.status}`);
        }
    }
    for (const id of outs?.pendingRestartInstanceIds ?? [])
        check(bound.has(id) && !restarted.has(id), `${id} pending but not bound, or restarted`);
    expect(problems).toEqual([]);
}

/** Resolves once the emulator has received a call matching `predicate` (polls every 2 ms). */
export async function callSeen(
    emulator: Emulator,
    predicate: (call: Emulator["calls"][number]) => boolean,
    timeoutMs = 10_000,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!emulator.calls.some(predicate)) {
        if (Date.now() > deadline) throw new Error("the expected call never came");
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
}

/** The calls of one action that the emulator refused or never answered. */
export function faultedCalls(emulator: Emulator, action: string): number {
    return emulator.calls.filter((c) => c.action === action && c.status !== 200).length;
}
