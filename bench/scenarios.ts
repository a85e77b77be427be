/**
 * The scenarios of issue 4, each against a fresh emulator with 2 s restarts and 20 ms per call:
 * one attachment over N instances (create, update adding 10 %, refresh, destroy), a rolling restart,
 * and 200 attachments created and destroyed at once in one provider process under throttling.
 */
import type { SeedInstance } from "pulumi-alicloud-keypair-attachment/emulator";
import { startSession, type PhaseMeasurement, type Session } from "./harness";
import {
    addInstancesLimit,
    bindLimit,
    createLimit,
    destroyLimit,
    lowerBoundMs,
    refreshLimit,
    type Limit,
    type TimingModel,
} from "./limits";
import type { Inputs, Operation, OperationResult, State } from "./protocol";
import { readTimeline } from "./timeline";

export type Phase = "create" | "update" | "refresh" | "destroy";

/** One row of bench/results/latest.json. */
export interface BenchResult {
    scenario: string;
    phase: Phase;
    /** The scenario's N: instances bound at create (the fleet: all attachments together). */
    n: number;
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
    minCallsByAction: Record<string, number>;
    /** Status polls (DescribeInstances after the first reboot). */
    polls: number;
    waves: number;
    /** First call → first reboot: validation and binding. */
    beforeRebootMs: number;
    /** How long after a restart was over a poll saw it, on average over the reboot calls. */
    detectionLagMs: number;
    wallMs: number;
    lowerBoundMs: number;
    cpuMs: number;
    rssMb: number;
    /** Present for the throttled scenario: calls refused with Throttling. */
    throttled?: number;
    /** The first few error messages, when an operation failed. */
    errors?: string[];
}

export const TIMING: TimingModel = { restartMs: 2_000, latencyMs: 20 };
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
export const FLEET = { resources: 200, instancesEach: 5, keyPairs: 4, ratePerSecond: 20 };

/** `i-` then lower-case letters and digits (the provider validates the format). */
function instanceIds(tag: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => `i-${tag}${String(i).padStart(5, "0")}`);
}

function running(ids: string[]): SeedInstance[] {
    return ids.map((id) => ({ id, status: "Running" }));
}

function inputs(keyPairName: string, ids: string[], restart: object = {}): Inputs {
    return { __provider: SERIALIZED_PROVIDER, keyPairName, instanceIds: ids, restart: { ...RESTART, ...restart } };
}

interface RowContext {
    scenario: string;
    phase: Phase;
    n: number;
    instances: number;
    limit: Limit;
    /** Record the throttled calls (the throttled scenario). */
    throttling?: boolean;
}

function record({ scenario, phase, n, instances, limit, throttling }: RowContext, measured: PhaseMeasurement): BenchResult {
    const failures = measured.results.filter((r): r is Extract<OperationResult, { ok: false }> => !r.ok);
    return {
        scenario,
        phase,
        n,
        instances,
        resources: measured.results.length,
        succeeded: measured.results.length - failures.length,
        calls: measured.calls,
        callsByAction: measured.callsByAction,
        minCalls: limit.minCalls,
        strictMinCalls: limit.strictMinCalls,
        minCallsByAction: limit.callsByAction,
        ...readTimeline(measured.callLog, TIMING.restartMs),
        waves: limit.waves,
        wallMs: Math.round(measured.wallMs),
        lowerBoundMs: lowerBoundMs(limit, TIMING),
        cpuMs: Math.round(measured.cpuMs),
        rssMb: Math.round(measured.rssMb * 10) / 10,
        ...(throttling ? { throttled: measured.throttled } : {}),
        ...(failures.length ? { errors: failures.slice(0, KEPT_ERRORS).map((f) => f.error) } : {}),
    };
}

function states(results: OperationResult[]): { id: string; outs: State }[] {
    return results.map((r) => {
        if (!r.ok || !r.outs) throw new Error(r.ok ? "no outputs" : r.error);
        return { id: r.id, outs: r.outs };
    });
}

/** Runs phases in order and stops at the first one whose operations did not all succeed. */
async function phases(
    session: Session,
    steps: { phase: Phase; operations: () => Operation[]; record: (m: PhaseMeasurement) => BenchResult }[],
    report: (row: BenchResult) => void,
): Promise<BenchResult[]> {
    const rows: BenchResult[] = [];
    for (const step of steps) {
        const row = step.record(await session.runPhase(step.operations(), PHASE_TIMEOUT_MS));
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
                    record: (m) => record({ scenario, phase: "create", n, instances: n, limit: createLimit(n) }, keep(m)),
                },
                {
                    phase: "update",
                    operations: () => [
                        { hook: "update", id: current!.id, olds: current!.outs, news: inputs(keyPairName, [...bound, ...added]) },
                    ],
                    record: (m) =>
                        record(
                            { scenario, phase: "update", n, instances: n + added.length, limit: addInstancesLimit(n, added.length) },
                            keep(m),
                        ),
                },
                {
                    phase: "refresh",
                    operations: () => [{ hook: "read", id: current!.id, props: current!.outs }],
                    record: (m) =>
                        record(
                            { scenario, phase: "refresh", n, instances: n + added.length, limit: refreshLimit(n + added.length) },
                            keep(m),
                        ),
                },
                {
                    phase: "destroy",
                    operations: () => [{ hook: "delete", id: current!.id, props: current!.outs }],
                    record: (m) =>
                        record({ scenario, phase: "destroy", n, instances: n + added.length, limit: destroyLimit(n + added.length) }, m),
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
 * instances with the calls of four attachments of 250.
 */
export async function throttledFleet(report: (row: BenchResult) => void): Promise<BenchResult[]> {
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
    const perKeyPair = keyPairs.map((k) => groups.filter((g) => g.keyPairName === k).length * FLEET.instancesEach);
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
                        const limit = bindLimit({ validated: all.length, bindCounts: perKeyPair, restarted: all.length, batchSize: 0 });
                        return record({ scenario, phase: "create", n: all.length, instances: all.length, limit, throttling: true }, m);
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
                                instances: all.length,
                                limit: destroyLimit(all.length),
                                throttling: true,
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
