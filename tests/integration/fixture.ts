/** A lifecycle wired to a real emulator over HTTP through the official SDK, for integration tests. */
import { DEFAULT_ACCESS_KEY, Emulator, EmulatorOptions, Seed, SeedInstance, startEmulator } from "../../emulator";
import { resolveSettings } from "../../provider/config";
import { SdkEcsGateway } from "../../provider/ecs/gateway";
import { DEFAULT_RETRY_OPTIONS, RetryBudget } from "../../provider/ecs/retry";
import { KeyPairAttachmentHooks, LifecycleDependencies, createLifecycle } from "../../provider/lifecycle";
import { BindingLookups } from "../../provider/preview";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileRestartJournal } from "../../provider/journal";
import { realClock } from "../../provider/clock";
import { RestartHistory } from "../../provider/restart";

export const REGION = "cn-hangzhou";
/** Reboots take (3000 + 5000) ms × 0.01 = 80 ms. */
export const TIME_SCALE = 0.01;
export const FAST_RESTART = { pollIntervalSeconds: 0.02, timeoutSeconds: 10 };

export interface Fixture {
    emulator: Emulator;
    hooks: KeyPairAttachmentHooks;
    logs: string[];
    close(): Promise<void>;
}

export function linuxInstances(count: number, prefix = "i-run", extra: Partial<SeedInstance> = {}): SeedInstance[] {
    return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${String(i).padStart(4, "0")}`, ...extra }));
}

export async function startFixture(
    seed: Seed,
    options: EmulatorOptions = {},
    config: Record<string, string> = {},
    journalDir?: string,
    /** Replaces parts of the wiring (a manual clock, say), for the whole fixture. */
    overrides: Partial<LifecycleDependencies> = {},
): Promise<Fixture> {
    const emulator = await startEmulator({ timeScale: TIME_SCALE, ...options, seed });
    const settings = resolveSettings(
        {
            get: (key) =>
                ({
                    "alicloud:region": REGION,
                    "alicloud:accessKey": DEFAULT_ACCESS_KEY.accessKeyId,
                    "alicloud:secretKey": DEFAULT_ACCESS_KEY.accessKeySecret,
                    ...config,
                })[key],
        },
        { ALIBABA_CLOUD_ECS_ENDPOINT: emulator.url },
    );
    // Real retries, but quick: tests must not wait seconds for a backoff.
    const retry = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 10, throttlingBaseDelayMs: 20, maxDelayMs: 100, budget: new RetryBudget() };
    const gateway = new SdkEcsGateway(settings, retry);
    const logs: string[] = [];
    const journal = new FileRestartJournal(journalDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "kpa-journal-")), (line) => logs.push(line));
    // One per fixture, as one per provider process: the look-up of a check or diff serves the operation after it.
    const bindingLookups = new BindingLookups(overrides.clock ?? realClock);
    const hooks = createLifecycle(() => ({
        settings,
        gateway,
        clock: realClock,
        restartHistory: new RestartHistory(),
        journal,
        log: (line) => logs.push(line),
        bindingLookups,
        ...overrides,
    }));
    return { emulator, hooks, logs, close: () => emulator.close() };
}

/** The props the engine hands to create: the inputs plus the serialized provider. */
export function inputs(keyPairName: string, instanceIds: string[], extra: Record<string, unknown> = {}) {
    return { __provider: "serialized-provider-text", keyPairName, instanceIds, restart: FAST_RESTART, ...extra };
}

export function mutatingCalls(emulator: Emulator): string[] {
    return emulator.calls.map((c) => c.action).filter((a) => !a.startsWith("Describe"));
}
