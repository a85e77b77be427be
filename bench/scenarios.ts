/**
 * The scenarios of issues 4 and 14, each against a fresh emulator with 2 s restarts and 20 ms per
 * call: one attachment over N instances (create, update adding 10 %, refresh, destroy), a rolling
 * restart, 200 attachments created and destroyed at once in one provider process under throttling
 * (three times), online activation (skipped until the lifecycle supports it), and one profiled
 * create at N = 5000 that says what the provider process spends its CPU on.
 */
import { appendFileSync } from "node:fs";
import type { SeedInstance } from "pulumi-alicloud-keypair-attachment/emulator";
import { startSession, type PhaseMeasurement, type Session } from "./harness";
import {
    addInstancesLimit,
    addInstancesPath,
    bindLimit,
    bindPath,
    createLimit,
    createPath,
    destroyLimit,
    destroyPath,
    refreshLimit,
    refreshPath,
    sumBoundMs,
    type CriticalPath,
    type Limit,
    type TimingModel,
} from "./limits";
import type { ClientCalls, Inputs, LoopDelay, Operation, OperationResult, ProfileSummary, State } from "./protocol";
import { excessParts, readTimeline, type Breakdown, type ExcessParts } from "./timeline";

export type Phase = "create" | "update" | "refresh" | "destroy";

/** One row of bench/results/latest.json. */
export interface BenchResult {
    scenario: string;
    phase: Phase;
    /** The scenario's N: instances bound at create (the fleet: all attachments together). */
    n: number;
    /** The fleet's run (1–3); absent elsewhere. */
    run?: number;
    /** Instances the phase works on (from the update on: N plus the 10 % added). */
    instances: number;
    /** Attachments (resources) in the phase. */
    resources: number;
    succeeded: number;
    calls: number;
    callsByAction: Record<string, number>;
    minCalls: number;
    /** The strict limit: one status poll per restart wave instead of a few. */
    strictMinCalls: number;
    /** The ECS API's own minimum: minCalls without the restart record (TagResources / UntagResources, limits.ts). */
    apiMinCalls: number;
    minCallsByAction: Record<string, number>;
    /** Status polls (DescribeInstances after the first reboot). */
    polls: number;
    waves: number;
    /** First call → first reboot: validation and binding. */
    beforeRebootMs: number;
    /** How long after a restart was over a poll saw it, on average over the reboot calls. */
    detectionLagMs: number;
    wallMs: number;
    /** The critical-path lower bound (limits.ts): restart × waves + the latency of the dependent chain. */
    boundMs: number;
    /** The chain the bound walks, one entry per dependent step. */
    boundSteps: { label: string; calls: Record<string, number>; ms: number }[];
    /** The old bound (issue 4): restart × waves + every minimal call's latency in sequence. */
    sumBoundMs: number;
    /** wall − bound, and the measured chain that says where it went. */
    excessMs: number;
    excessParts: ExcessParts;
    breakdown: Breakdown;
    /** The provider process's event loop during the phase, and the emulator's (the parent's). */
    loopDelay: LoopDelay;
    emulatorLoopDelay: LoopDelay;
    /** CPU time of the emulator (the benchmark process) during the phase. */
    emulatorCpuMs: number;
    /** The SDK's HTTP calls seen from the provider process (request → response headers). */
    client: ClientCalls;
    cpuMs: number;
    rssMb: number;
    /** Present for the throttled scenario: calls refused with Throttling. */
    throttled?: number;
    /** Present for the profiled run: the CPU profile by category. */
    profile?: ProfileSummary;
    /** The first few error messages, when an operation failed. */
    errors?: string[];
}

/** The emulator's Cloud Assistant timings are its defaults (delivery 0.5 s + run 1.5 s). */
export const TIMING: TimingModel = { restartMs: 2_000, latencyMs: 20, commandMs: 2_000 };
const EMULATOR_OPTIONS = {
    timeScale: 1,
    durations: { stoppingMs: 500, startingMs: 1_500 },
    latencyMs: TIMING.latencyMs,
};
/** A quarter of a second: a few looks per 2 s restart. */
const RESTART = { pollIntervalSeconds: 0.25, timeoutSeconds: 120 };
const PHASE_TIMEOUT_MS = 180_000;
/** What the engine passes beside the inputs; the lifecycle must keep it in partial results. */
const SERIALIZED_PROVIDER = "bench-serialized-provider";
const KEPT_ERRORS = 3;

export const SINGLE_SIZES = [1, 10, 100, 1_000, 5_000];
export const ROLLING = { n: 100, batchSize: 10 };
export const FLEET = { resources: 200, instancesEach: 5, keyPairs: 4, ratePerSecond: 20, runs: 3 };
export const ONLINE_SIZES = [100, 1_000];
export const PROFILED_N = 5_000;

/** `i-` then lower-case letters and digits (the provider validates the format). */
function instanceIds(tag: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => `i-${tag}${String(i).padStart(5, "0")}`);
}

function running(ids: string[]): SeedInstance[] {
    return ids.map((id) => ({ id, status: "Running" }));
}

function inputs(keyPairName: string, ids: string[], restart: object = {}, extra: object = {}): Inputs {
    return { __provider: SERIALIZED_PROVIDER, keyPairName, instanceIds: ids, restart: { ...RESTART, ...restart }, ...extra };
}

interface RowContext {
    scenario: string;
    phase: Phase;
    n: number;
    run?: number;
    instances: number;
    limit: Limit;
    path: CriticalPath;
    timing?: TimingModel;
    /** Record the throttled calls (the throttled scenario). */
    throttling?: boolean;
}

/** TagResources / UntagResources name their instances as ResourceId.N. */
const resourceCount = (params: Record<string, string>) => Object.keys(params).filter((k) => k.startsWith("ResourceId.")).length;

/** `KPA_BENCH_CALL_LOG=<file>`: appends each phase's calls (ms from the phase's start, action, ids, code), to read where time went. */
function dumpCallLog(file: string, context: RowContext, measured: PhaseMeasurement): void {
    const lines = measured.callLog.map(
        (c) =>
            `${(c.at - measured.startedAtEpochMs).toFixed(0).padStart(6)} ${c.action} ${c.instanceIds.length || resourceCount(c.params)}${c.code ? ` ${c.code}` : ""}`,
    );
    appendFileSync(
        file,
        [`# ${context.scenario} ${context.phase} N=${context.n}${context.run ? ` run ${context.run}` : ""}`, ...lines, ""].join("\n"),
    );
}

function record(context: RowContext, measured: PhaseMeasurement): BenchResult {
    const { scenario, phase, n, run, instances, limit, path, throttling } = context;
    const timing = context.timing ?? TIMING;
    const failures = measured.results.filter((r): r is Extract<OperationResult, { ok: false }> => !r.ok);
    const wallMs = Math.round(measured.wallMs);
    const timeline = readTimeline(measured.callLog, timing, measured, limit.waves);
    if (process.env.KPA_BENCH_CALL_LOG) dumpCallLog(process.env.KPA_BENCH_CALL_LOG, context, measured);
    return {
        scenario,
        phase,
        n,
        ...(run === undefined ? {} : { run }),
        instances,
        resources: measured.results.length,
        succeeded: measured.results.length - failures.length,
        calls: measured.calls,
        callsByAction: measured.callsByAction,
        minCalls: limit.minCalls,
        strictMinCalls: limit.strictMinCalls,
        apiMinCalls: limit.apiMinCalls,
        minCallsByAction: limit.callsByAction,
        ...timeline,
        waves: limit.waves,
        wallMs,
        boundMs: path.ms,
        boundSteps: path.steps,
        sumBoundMs: sumBoundMs(limit, timing),
        excessMs: wallMs - path.ms,
        excessParts: excessParts(timeline.breakdown, timing.latencyMs),
        loopDelay: measured.loopDelay,
        emulatorLoopDelay: measured.emulatorLoopDelay,
        emulatorCpuMs: measured.emulatorCpuMs,
        client: measured.client,
        cpuMs: Math.round(measured.cpuMs),
        rssMb: Math.round(measured.rssMb * 10) / 10,
        ...(throttling ? { throttled: measured.throttled } : {}),
        ...(measured.profile ? { profile: measured.profile } : {}),
        ...(failures.length ? { errors: failures.slice(0, KEPT_ERRORS).map((f) => f.error) } : {}),
    };
}

function states(results: OperationResult[]): { id: string; outs: State }[] {
    return results.map((r) => {
        if (!r.ok || !r.outs) throw new Error(r.ok ? "no outputs" : r.error);
        return { id: r.id, outs: r.outs };
    });
}

interface Step {
    phase: Phase;
    operations: () => Operation[];
    record: (m: PhaseMeasurement) => BenchResult;
    profile?: boolean;
}

/** Runs phases in order and stops at the first one whose operations did not all succeed. */
/**
 * Under the throttle, phases are this far apart: each is its own `pulumi` command, so it starts with
 * ECS's one-second quota window empty of the last phase's calls (a destroy started in the same
 * second as the create's last polls would pay for them).
 */
export const THROTTLED_PHASE_GAP_MS = 1_100;

async function phases(session: Session, steps: Step[], report: (row: BenchResult) => void, gapMs = 0): Promise<BenchResult[]> {
    const rows: BenchResult[] = [];
    for (const [index, step] of steps.entries()) {
        if (index > 0 && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        const row = step.record(await session.runPhase(step.operations(), PHASE_TIMEOUT_MS, { profile: step.profile }));
        rows.push(row);
        report(row);
        if (row.succeeded < row.resources) break;
    }
    return rows;
}

/** One attachment over N Running instances; 10 % more seeded up front for the update. */
export async function singleAttachment(
    n: number,
    report: (row: BenchResult) => void,
): Promise<{ rows: BenchResult[]; baselineRssMb: number }> {
    const keyPairName = "bench-key";
    const bound = instanceIds("a", n);
    const added = instanceIds("b", Math.ceil(n / 10));
    const session = await startSession({
        ...EMULATOR_OPTIONS,
        seed: { keyPairs: [{ name: keyPairName }], instances: running([...bound, ...added]) },
    });
    const scenario = "single";
    const all = n + added.length;
    let current: { id: string; outs: State } | undefined;
    const keep = (m: PhaseMeasurement) => {
        current = m.results[0]?.ok ? states(m.results)[0] : current;
        return m;
    };
    try {
        const rows = await phases(
            session,
            [
                {
                    phase: "create",
                    operations: () => [{ hook: "create", inputs: inputs(keyPairName, bound) }],
                    record: (m) =>
                        record({ scenario, phase: "create", n, instances: n, limit: createLimit(n), path: createPath(n, TIMING) }, keep(m)),
                },
                {
                    phase: "update",
                    operations: () => [
                        { hook: "update", id: current!.id, olds: current!.outs, news: inputs(keyPairName, [...bound, ...added]) },
                    ],
                    record: (m) =>
                        record(
                            {
                                scenario,
                                phase: "update",
                                n,
                                instances: all,
                                limit: addInstancesLimit(n, added.length),
                                path: addInstancesPath(n, added.length, TIMING),
                            },
                            keep(m),
                        ),
                },
                {
                    phase: "refresh",
                    operations: () => [{ hook: "read", id: current!.id, props: current!.outs }],
                    record: (m) =>
                        record(
                            { scenario, phase: "refresh", n, instances: all, limit: refreshLimit(all), path: refreshPath(all, TIMING) },
                            keep(m),
                        ),
                },
                {
                    phase: "destroy",
                    operations: () => [{ hook: "delete", id: current!.id, props: current!.outs }],
                    record: (m) =>
                        record(
                            { scenario, phase: "destroy", n, instances: all, limit: destroyLimit(all), path: destroyPath(all, TIMING) },
                            m,
                        ),
                },
            ],
            report,
        );
        return { rows, baselineRssMb: session.baseline.maxRssKb / 1024 };
    } finally {
        await session.close();
    }
}

/** A rolling restart: one attachment over 100 instances, restart.batchSize 10 (10 waves). */
export async function rollingRestart(report: (row: BenchResult) => void): Promise<BenchResult[]> {
    const keyPairName = "bench-key";
    const ids = instanceIds("r", ROLLING.n);
    const session = await startSession({ ...EMULATOR_OPTIONS, seed: { keyPairs: [{ name: keyPairName }], instances: running(ids) } });
    try {
        return await phases(
            session,
            [
                {
                    phase: "create",
                    operations: () => [{ hook: "create", inputs: inputs(keyPairName, ids, { batchSize: ROLLING.batchSize }) }],
                    record: (m) =>
                        record(
                            {
                                scenario: `rolling-batch${ROLLING.batchSize}`,
                                phase: "create",
                                n: ROLLING.n,
                                instances: ROLLING.n,
                                limit: createLimit(ROLLING.n, ROLLING.batchSize),
                                path: createPath(ROLLING.n, TIMING, ROLLING.batchSize),
                            },
                            m,
                        ),
                },
            ],
            report,
        );
    } finally {
        await session.close();
    }
}

/**
 * 200 attachments of 5 distinct instances each, spread over 4 key pairs (50 attachments per key
 * pair), created at once and then destroyed at once in one provider process, with every ECS action
 * throttled above 20 calls a second (each action counted on its own, as ECS quotas are per API).
 * The minimum assumes calls coalesced across attachments: a provider process could bind all 1000
 * instances with the calls of four attachments of 250. `run` numbers the repetitions (issue 14:
 * three out of three).
 */
export async function throttledFleet(run: number, report: (row: BenchResult) => void): Promise<BenchResult[]> {
    const keyPairs = Array.from({ length: FLEET.keyPairs }, (_, k) => `fleet-key-${k}`);
    const all = instanceIds("f", FLEET.resources * FLEET.instancesEach);
    const groups = Array.from({ length: FLEET.resources }, (_, r) => ({
        keyPairName: keyPairs[r % keyPairs.length],
        ids: all.slice(r * FLEET.instancesEach, (r + 1) * FLEET.instancesEach),
    }));
    const session = await startSession({
        ...EMULATOR_OPTIONS,
        seed: { keyPairs: keyPairs.map((name) => ({ name })), instances: running(all) },
    });
    session.emulator.faults.throttle({ ratePerSecond: FLEET.ratePerSecond });
    const scenario = `fleet-${FLEET.resources}x${FLEET.instancesEach}-throttled`;
    const timing: TimingModel = { ...TIMING, throttlePerSecond: FLEET.ratePerSecond };
    const perKeyPair = keyPairs.map((k) => groups.filter((g) => g.keyPairName === k).length * FLEET.instancesEach);
    const detachCalls = perKeyPair.reduce((sum, count) => sum + Math.ceil(count / 50), 0);
    const bind = { validated: all.length, bindCounts: perKeyPair, restarted: all.length, batchSize: 0 };
    let created: { id: string; outs: State }[] = [];
    try {
        return await phases(
            session,
            [
                {
                    phase: "create",
                    operations: () => groups.map((g) => ({ hook: "create", inputs: inputs(g.keyPairName, g.ids) })),
                    record: (m) => {
                        created = m.results.flatMap((r) => (r.ok && r.outs ? [{ id: r.id, outs: r.outs }] : []));
                        return record(
                            {
                                scenario,
                                phase: "create",
                                n: all.length,
                                run,
                                instances: all.length,
                                limit: bindLimit(bind),
                                path: bindPath(bind, timing),
                                timing,
                                throttling: true,
                            },
                            m,
                        );
                    },
                },
                {
                    phase: "destroy",
                    operations: () => created.map((c) => ({ hook: "delete", id: c.id, props: c.outs })),
                    record: (m) =>
                        record(
                            {
                                scenario,
                                phase: "destroy",
                                n: all.length,
                                run,
                                instances: all.length,
                                limit: destroyLimit(all.length),
                                path: destroyPath(all.length, timing, detachCalls),
                                timing,
                                throttling: true,
                            },
                            m,
                        ),
                },
            ],
            report,
            THROTTLED_PHASE_GAP_MS,
        );
    } finally {
        await session.close();
    }
}

/**
 * Online activation (issue 14, item 3): the key takes effect without a restart. Runs only when the
 * lifecycle supports `activation: "online"` (the child probes check()); otherwise returns a note.
 */
export async function onlineActivation(n: number, report: (row: BenchResult) => void): Promise<{ rows: BenchResult[]; note?: string }> {
    const keyPairName = "bench-key";
    const ids = instanceIds("o", n);
    const session = await startSession({ ...EMULATOR_OPTIONS, seed: { keyPairs: [{ name: keyPairName }], instances: running(ids) } });
    try {
        const place = session.activationOnline;
        if (!place) {
            return {
                rows: [],
                note: `online activation N=${n} skipped: the lifecycle does not support activation: "online" yet (check() accepts no such mode)`,
            };
        }
        const extra = place === "inputs" ? { activation: "online" } : {};
        const restart = place === "restart" ? { activation: "online" } : {};
        const rows = await phases(
            session,
            [
                {
                    phase: "create",
                    operations: () => [{ hook: "create", inputs: inputs(keyPairName, ids, restart, extra) }],
                    record: (m) =>
                        record(
                            {
                                scenario: "online-activation",
                                phase: "create",
                                n,
                                instances: n,
                                limit: bindLimit({ validated: n, bindCounts: [n], restarted: 0, batchSize: 0 }),
                                path: createPath(n, TIMING, 0, true),
                            },
                            m,
                        ),
                },
            ],
            report,
        );
        return { rows };
    } finally {
        await session.close();
    }
}

/** One create at N = 5000 with a CPU profile of the provider process: not a target row, the profile's source. */
export async function profiledCreate(report: (row: BenchResult) => void): Promise<BenchResult[]> {
    const keyPairName = "bench-key";
    const ids = instanceIds("p", PROFILED_N);
    const session = await startSession({ ...EMULATOR_OPTIONS, seed: { keyPairs: [{ name: keyPairName }], instances: running(ids) } });
    try {
        return await phases(
            session,
            [
                {
                    phase: "create",
                    profile: true,
                    operations: () => [{ hook: "create", inputs: inputs(keyPairName, ids) }],
                    record: (m) =>
                        record(
                            {
                                scenario: "profiled",
                                phase: "create",
                                n: PROFILED_N,
                                instances: PROFILED_N,
                                limit: createLimit(PROFILED_N),
                                path: createPath(PROFILED_N, TIMING),
                            },
                            m,
                        ),
                },
            ],
            report,
        );
    } finally {
        await session.close();
    }
}
