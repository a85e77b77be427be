/**
 * The one wiring of the lifecycle for tests: the real SDK over HTTP to an in-process emulator (or
 * to any endpoint), with the settings, retry options, call timeouts, clock and journal a test
 * chooses. Used by the integration and reliability tests; everything it creates is removed by
 * `close()` (the emulator, and the journal's temporary directory).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { DEFAULT_ACCESS_KEY, Emulator, EmulatorOptions, Seed, SeedInstance, startEmulator } from "../../emulator";
import { Clock, realClock, realRandom } from "../../provider/clock";
import { ConfigSource, ProviderSettings, resolveSettings } from "../../provider/config";
import { CallTimeouts, SdkEcsGateway } from "../../provider/ecs/gateway";
import { READINESS_BASE_DELAY_MS } from "../../provider/ecs/readiness";
import { DEFAULT_RETRY_OPTIONS, RetryBudget, RetryOptions } from "../../provider/ecs/retry";
import { FileRestartJournal } from "../../provider/journal";
import { KeyPairAttachmentHooks, createLifecycle } from "../../provider/lifecycle";
import { BindingLookups } from "../../provider/preview";
import { RestartHistory } from "../../provider/restart";
import { EcsTagRestartJournal } from "../../provider/tag-journal";
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../../provider/types";

export const REGION = "cn-hangzhou";
/** Reboots take (3000 + 5000) ms × 0.01 = 80 ms. */
export const TIME_SCALE = 0.01;
/** The provider re-reads a lagging change after 500 ms; scaled like the emulator's time. */
export const VISIBILITY_DELAY_MS = 500 * TIME_SCALE;
export const FAST_RESTART = { pollIntervalSeconds: 0.02, timeoutSeconds: 10 };

export function linuxInstances(count: number, prefix = "i-run", extra: Partial<SeedInstance> = {}): SeedInstance[] {
    return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${String(i).padStart(4, "0")}`, ...extra }));
}

/** Real retries with the production attempt cap, but millisecond backoffs: tests must not wait seconds for one. */
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

export interface WiringOptions {
    retry?: Partial<RetryOptions>;
    /** Default: the production connect and read timeouts. */
    timeouts?: CallTimeouts;
    /** The provider's clock (restart waits, backoffs, coalescing, rate limits). Default: realClock. */
    clock?: Clock;
    /** Default: the production window. */
    coalesceWindowMs?: number;
    /** First re-read of a change ECS does not show yet; default VISIBILITY_DELAY_MS (the emulator's lag is scaled by TIME_SCALE too). */
    visibilityDelayMs?: number;
}

export interface Wiring {
    hooks: KeyPairAttachmentHooks;
    settings: ProviderSettings;
    /** Every line the lifecycle (and its journal) logged. */
    logs: string[];
    /** The restart journal's directory: a test may write what a dead run left there. */
    journalDir: string;
    /** Removes the journal directory. */
    dispose(): Promise<void>;
}

/** A lifecycle wired to `settings` as the provider process wires it, but with a private journal. */
export function wireLifecycle(settings: ProviderSettings, options: WiringOptions = {}): Wiring {
    const clock = options.clock ?? realClock;
    const gateway = new SdkEcsGateway(settings, {
        retry: quickRetry({ clock, ...options.retry }),
        timeouts: options.timeouts,
        clock,
        coalesceWindowMs: options.coalesceWindowMs,
        // Fresh instances are sent a change again after (scaled) seconds, as the emulator's initialization is scaled.
        readinessDelayMs: READINESS_BASE_DELAY_MS * TIME_SCALE,
    });
    const logs: string[] = [];
    const log = (line: string) => void logs.push(line);
    const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-journal-"));
    const journal = new EcsTagRestartJournal(gateway, new FileRestartJournal(journalDir, log), log);
    const restartHistory = new RestartHistory();
    const visibilityDelayMs = options.visibilityDelayMs ?? VISIBILITY_DELAY_MS;
    // One per wiring, as one per provider process: the look-up of a check or diff serves the operation after it.
    const bindingLookups = new BindingLookups(clock);
    const hooks = createLifecycle(() => ({
        settings,
        gateway,
        clock,
        random: realRandom,
        restartHistory,
        journal,
        log,
        visibilityDelayMs,
        bindingLookups,
    }));
    return { hooks, settings, logs, journalDir, dispose: () => fs.promises.rm(journalDir, { recursive: true, force: true }) };
}

export interface FixtureOptions extends WiringOptions {
    emulator?: EmulatorOptions;
    /** Stack configuration; default: region and the emulator's default access key. */
    config?: Record<string, string>;
    /** Environment given to resolveSettings (the endpoint is always added). */
    env?: NodeJS.ProcessEnv;
}

export interface Fixture extends Omit<Wiring, "dispose"> {
    emulator: Emulator;
    close(): Promise<void>;
}

export async function startFixture(seed: Seed, options: FixtureOptions = {}): Promise<Fixture> {
    const emulator = await startEmulator({ timeScale: TIME_SCALE, ...options.emulator, seed });
    const wiring = wireLifecycle(settingsFor(emulator.url, options.config, options.env), options);
    return {
        hooks: wiring.hooks,
        settings: wiring.settings,
        logs: wiring.logs,
        journalDir: wiring.journalDir,
        emulator,
        close: async () => {
            await emulator.close();
            await wiring.dispose();
        },
    };
}

/** The props the engine hands to create: the inputs plus the serialized provider. */
export function inputs(
    keyPairName: string,
    instanceIds: string[],
    extra: Partial<KeyPairAttachmentInputs> = {},
): KeyPairAttachmentInputs & { __provider: string } {
    return { __provider: "serialized-provider-text", keyPairName, instanceIds, restart: FAST_RESTART, ...extra };
}

/** Outputs as the state records them, with nothing owed, pending or flagged unless given. */
export function recordedOutputs(
    fields: Pick<KeyPairAttachmentOutputs, "keyPairName" | "instanceIds"> & Partial<KeyPairAttachmentOutputs>,
): KeyPairAttachmentOutputs {
    return {
        region: REGION,
        restartedInstanceIds: [],
        pendingRestartInstanceIds: [],
        passwordResetRequiredInstanceIds: [],
        passwordResetFailures: {},
        replacedKeyPairs: {},
        ...fields,
    };
}

export function mutatingCalls(emulator: Emulator): string[] {
    return emulator.calls.map((c) => c.action).filter((a) => !a.startsWith("Describe"));
}

/**
 * A clock that moves only when someone sleeps on it: a sleep passes at once (on the next turn of
 * the event loop) and moves the time forward by what was asked. A wait of N seconds costs no real
 * time, and how long the provider waited is exactly what it asked for. Give the same clock to the
 * emulator and its transitions (a reboot taking 400 ms) progress with the provider's polls.
 *
 * `holdWhile`: while it returns true, sleeps do not pass (time stands still), so a test can change
 * the world at an exact point of the provider's run and then let it go on.
 */
export interface SteppingClock extends Clock {
    /** Milliseconds the clock has moved since it was made. */
    elapsedMs(): number;
}

export function steppingClock(holdWhile: () => boolean = () => false): SteppingClock {
    const start = Date.now();
    let now = start;
    const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
    return {
        now: () => now,
        sleep: async (ms) => {
            while (holdWhile()) await new Promise((resolve) => setTimeout(resolve, 1));
            now += ms;
            await nextTurn();
        },
        elapsedMs: () => now - start,
    };
}

/** What a hook throws: a PartialBindingError carries the recorded properties and the reasons. */
export type HookError = Error & { id: string; properties: KeyPairAttachmentOutputs & Record<string, unknown>; reasons: string[] };

/** What `run` rejected with; fails the test when it resolved instead. */
export async function rejectionOf(run: Promise<unknown>): Promise<HookError> {
    try {
        await run;
    } catch (error) {
        return error as HookError;
    }
    throw new Error("the hook was expected to fail, but it succeeded");
}

/** Resolves once `condition` holds (polled every 2 ms); fails with `what` after a generous deadline. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
}

/** Resolves once the emulator has received a call matching `predicate`. */
export function callSeen(emulator: Emulator, predicate: (call: Emulator["calls"][number]) => boolean, timeoutMs = 10_000): Promise<void> {
    return eventually(() => emulator.calls.some(predicate), "the expected call came", timeoutMs);
}

/**
 * Resolves once the emulator has answered every request it received (a late request the client
 * gave up on included): only then does its state show everything the provider's calls did.
 */
export function allCallsAnswered(emulator: Emulator, timeoutMs = 10_000): Promise<void> {
    return eventually(() => emulator.calls.every((c) => c.status !== 0), "every request the emulator received was answered", timeoutMs);
}
