/**
 * The physical limit of binding key pairs (issue 4), as pure functions: the fewest ECS calls a
 * phase needs, by action, and the wall-time lower bound. Also the peer's cost model (the Terraform
 * Alibaba provider's attachment), drawn beside ours in the chart.
 *
 * API limits (ecs-api.md §2, DESIGN §6): DescribeInstances 100 ids a call, AttachKeyPair and
 * DetachKeyPair 50, RebootInstances 100.
 */

export const DESCRIBE_BATCH = 100;
export const ATTACH_DETACH_BATCH = 50;
export const REBOOT_BATCH = 100;
/** RunCommand takes at most 100 instances, DescribeCloudAssistantStatus 50 (ecs-api.md, the SDK models). */
export const RUN_COMMAND_BATCH = 100;
export const CLOUD_ASSISTANT_STATUS_BATCH = 50;
/** TagResources and UntagResources take at most 50 resource ids a call (ecs-api.md §12.3). */
export const TAG_BATCH = 50;

/**
 * Status polls a restart wave needs ("a few" in the physical limit). A poller cannot know
 * when a reboot ends; to see it within 0.3 × the restart duration (the wall-time target) without
 * knowing that duration, it must look about every third of it: three looks per wave. At large N the
 * polls of one wave take long enough themselves that fewer looks suffice, so a provider can go
 * below this; `strictMinCalls` counts only the one look that is always needed.
 */
export const MIN_POLLS_PER_WAVE = 3;
/** The strict physical limit: one poll per wave, the look that finds it Running. */
export const STRICT_POLLS_PER_WAVE = 1;

export type CallsByAction = Record<string, number>;

export interface Limit {
    /** The fewest calls, by action. */
    callsByAction: CallsByAction;
    minCalls: number;
    /** As minCalls, with one status poll per wave instead of MIN_POLLS_PER_WAVE. */
    strictMinCalls: number;
    /** As minCalls, without the restart record (TagResources / UntagResources): the ECS API's own minimum. */
    apiMinCalls: number;
    /** Restart waves: 0 (nothing to restart), 1 (all at once) or ⌈restarted / batchSize⌉ (rolling). */
    waves: number;
}

export interface TimingModel {
    /** One reboot, Running → Stopping → Starting → Running. */
    restartMs: number;
    /** Added by the emulator to every response. */
    latencyMs: number;
    /** The emulator's throttle, calls per second per action (the fleet), if any. */
    throttlePerSecond?: number;
    /** One Cloud Assistant command, sent → finished (the emulator's delivery + run time). */
    commandMs?: number;
}

const ceilDiv = (n: number, size: number) => Math.ceil(n / size);

/** `pollCalls`: the status polls in `callsByAction` (of MIN_POLLS_PER_WAVE each per wave). */
const RECORD_ACTIONS = ["TagResources", "UntagResources"];

function limit(callsByAction: CallsByAction, waves: number, pollCalls = 0): Limit {
    const nonZero = Object.fromEntries(Object.entries(callsByAction).filter(([, count]) => count > 0));
    const minCalls = Object.values(nonZero).reduce((a, b) => a + b, 0);
    const strictMinCalls = minCalls - pollCalls + (pollCalls / MIN_POLLS_PER_WAVE) * STRICT_POLLS_PER_WAVE;
    const apiMinCalls = minCalls - RECORD_ACTIONS.reduce((sum, action) => sum + (nonZero[action] ?? 0), 0);
    return { callsByAction: nonZero, minCalls, strictMinCalls, apiMinCalls, waves };
}

/** Wave sizes of restarting `restarted` instances: one wave, or rolling waves of `batchSize`. */
export function waveSizes(restarted: number, batchSize: number): number[] {
    if (restarted === 0) return [];
    if (batchSize <= 0 || batchSize >= restarted) return [restarted];
    return Array.from({ length: ceilDiv(restarted, batchSize) }, (_, i) => Math.min(batchSize, restarted - i * batchSize));
}

function restartCalls(restarted: number, batchSize: number): { reboots: number; polls: number; waves: number } {
    const waves = waveSizes(restarted, batchSize);
    const reboots = waves.reduce((sum, size) => sum + ceilDiv(size, REBOOT_BATCH), 0);
    const polls = waves.reduce((sum, size) => sum + MIN_POLLS_PER_WAVE * ceilDiv(size, DESCRIBE_BATCH), 0);
    return { reboots, polls, waves: waves.length };
}

/**
 * Binding `bindCounts` instances per key pair (one entry per distinct key pair), `validated`
 * instances described first, `restarted` of them rebooted: 1 DescribeKeyPairs per key pair (does it
 * exist), ⌈validated/100⌉ DescribeInstances, ⌈bound/50⌉ AttachKeyPair per key pair,
 * ⌈wave/100⌉ RebootInstances and MIN_POLLS_PER_WAVE × ⌈wave/100⌉ status polls per wave.
 *
 * And the restart record (issue 11): a run lost between AttachKeyPair and the reboots (a CI runner
 * preempted) must leave in ECS which restarts it owes, since its machine is gone — the only
 * per-instance record ECS keeps is a tag. So every bound instance (all are Running here) is tagged
 * before AttachKeyPair, ⌈bound/50⌉ TagResources per key pair (the value names the key pair), and
 * untagged once restarted, ⌈wave/50⌉ UntagResources per wave (once for online activation).
 * `apiMinCalls` leaves the record out.
 */
export function bindLimit(options: { validated: number; bindCounts: number[]; restarted: number; batchSize: number }): Limit {
    const restart = restartCalls(options.restarted, options.batchSize);
    const bound = options.bindCounts.reduce((sum, count) => sum + count, 0);
    const waves = waveSizes(options.restarted, options.batchSize);
    return limit(
        {
            DescribeKeyPairs: options.bindCounts.length,
            DescribeInstances: ceilDiv(options.validated, DESCRIBE_BATCH) + restart.polls,
            TagResources: options.bindCounts.reduce((sum, count) => sum + ceilDiv(count, TAG_BATCH), 0),
            AttachKeyPair: options.bindCounts.reduce((sum, count) => sum + ceilDiv(count, ATTACH_DETACH_BATCH), 0),
            RebootInstances: restart.reboots,
            UntagResources: waves.length ? waves.reduce((sum, size) => sum + ceilDiv(size, TAG_BATCH), 0) : ceilDiv(bound, TAG_BATCH),
        },
        restart.waves,
        restart.polls,
    );
}

/** Create over N Running instances without a key. */
export function createLimit(n: number, batchSize = 0): Limit {
    return bindLimit({ validated: n, bindCounts: [n], restarted: n, batchSize });
}

/** Update from N to N + added: the whole desired set is described (which still hold the key?), only the added are bound and restarted. */
export function addInstancesLimit(n: number, added: number, batchSize = 0): Limit {
    return bindLimit({ validated: n + added, bindCounts: [added], restarted: added, batchSize });
}

/** Refresh: does the key pair still exist, and which instances still carry it. */
export function refreshLimit(n: number): Limit {
    return limit({ DescribeKeyPairs: 1, DescribeInstances: ceilDiv(n, DESCRIBE_BATCH) }, 0);
}

/** Destroy: which instances still hold this key, then unbind them (no restart by default). */
export function destroyLimit(n: number): Limit {
    return limit({ DescribeInstances: ceilDiv(n, DESCRIBE_BATCH), DetachKeyPair: ceilDiv(n, ATTACH_DETACH_BATCH) }, 0);
}

/**
 * The old, loose bound (issue 4), kept as the "sum" column: every wave lasts one restart, plus the
 * latency of the minimal calls as if they were made one after another. A provider that overlaps
 * calls beats it, so a ratio below 1 is possible at large N; the critical path below cannot be beaten.
 */
export function sumBoundMs(l: Limit, timing: TimingModel): number {
    return l.waves * timing.restartMs + l.minCalls * timing.latencyMs;
}

/**
 * The critical path (issue 14). A phase is a chain of dependent steps; the calls inside a step are
 * independent and overlap. Each step costs one call latency — ECS carries a call out when it
 * receives it and answers `latencyMs` later — except a restart wave, which costs the restart: the
 * reboot takes effect on arrival, its answer comes back while the instance is still Stopping, and the
 * poll that sees Running cannot arrive before the restart is over, so a wave costs restart + one poll.
 *
 * Overlap assumption: calls of one step all go out at once. ECS publishes rate quotas, not a cap on
 * concurrent calls, and the SDK sets none (`@darabonba/typescript` → `httpx` on Node's global agent:
 * keep-alive, `maxSockets: Infinity`); so ⌈N/100⌉ DescribeInstances cost one latency. The provider's
 * own limit (BATCH_CONCURRENCY = 4 batches of one action in flight, provider/ecs/gateway.ts) is a
 * design choice, not a limit: the bound ignores it and the breakdown reports what it costs
 * (`PROVIDER_BATCH_CONCURRENCY`, `roundsAt`). Under a throttle of q calls per second per action (the
 * fleet), a step with c calls of one action needs ⌈c/q⌉ one-second windows: (⌈c/q⌉ − 1) s more.
 */
export interface ChainStep {
    /** What the step does, e.g. "DescribeInstances ‖ DescribeKeyPairs". */
    label: string;
    /** Calls of the step, by action (all independent). */
    calls: CallsByAction;
    /** The step's cost: one latency, or restart + one latency for a restart wave, plus throttle windows. */
    ms: number;
}

export interface CriticalPath {
    steps: ChainStep[];
    /** The lower bound of the wall time: the sum of the steps. */
    ms: number;
}

/** Batches of one action the provider keeps in flight (BATCH_CONCURRENCY in provider/ecs/gateway.ts), for the breakdown only. */
export const PROVIDER_BATCH_CONCURRENCY = 4;

/** Sequential rounds a step needs when at most `concurrency` calls of one action are in flight. */
export function roundsAt(calls: CallsByAction, concurrency: number): number {
    return Math.max(1, ...Object.values(calls).map((c) => ceilDiv(c, concurrency)));
}

/** `waitMs`: what the step waits for besides the calls' latency (a restart, a command). */
function step(label: string, calls: CallsByAction, timing: TimingModel, waitMs = 0): ChainStep {
    const nonZero = Object.fromEntries(Object.entries(calls).filter(([, c]) => c > 0));
    const q = timing.throttlePerSecond;
    const windows = q ? Math.max(1, ...Object.values(nonZero).map((c) => ceilDiv(c, q))) : 1;
    return { label, calls: nonZero, ms: waitMs + timing.latencyMs + (windows - 1) * 1_000 };
}

function path(steps: ChainStep[]): CriticalPath {
    return { steps, ms: steps.reduce((sum, s) => sum + s.ms, 0) };
}

/**
 * Binding: DescribeInstances ‖ DescribeKeyPairs → AttachKeyPair → per wave (RebootInstances → the
 * restart → the poll that sees Running). `activation: "online"` has no restart: the reads also ask
 * DescribeCloudAssistantStatus (in parallel, at best), then AttachKeyPair → RunCommand (≤ 100 ids a
 * call, all at once) → the command's run → the DescribeInvocationResults that sees it finished.
 */
export function bindPath(
    options: { validated: number; bindCounts: number[]; restarted: number; batchSize: number; online?: boolean },
    timing: TimingModel,
): CriticalPath {
    const steps = [
        step(
            "DescribeInstances ‖ DescribeKeyPairs",
            { DescribeInstances: ceilDiv(options.validated, DESCRIBE_BATCH), DescribeKeyPairs: options.bindCounts.length },
            timing,
        ),
    ];
    const attach = options.bindCounts.reduce((sum, count) => sum + ceilDiv(count, ATTACH_DETACH_BATCH), 0);
    if (attach) steps.push(step("AttachKeyPair", { AttachKeyPair: attach }, timing));
    if (options.online) {
        const commands = ceilDiv(options.restarted, RUN_COMMAND_BATCH);
        steps[0].calls.DescribeCloudAssistantStatus = ceilDiv(options.restarted, CLOUD_ASSISTANT_STATUS_BATCH);
        steps.push(step("RunCommand", { RunCommand: commands }, timing));
        steps.push(
            step("command runs → DescribeInvocationResults", { DescribeInvocationResults: commands }, timing, timing.commandMs ?? 0),
        );
        return path(steps);
    }
    for (const [i, size] of waveSizes(options.restarted, options.batchSize).entries()) {
        steps.push(
            step(
                `wave ${i + 1}: RebootInstances → restart → poll`,
                { RebootInstances: ceilDiv(size, REBOOT_BATCH), DescribeInstances: ceilDiv(size, DESCRIBE_BATCH) },
                timing,
                timing.restartMs,
            ),
        );
    }
    return path(steps);
}

export const createPath = (n: number, timing: TimingModel, batchSize = 0, online = false) =>
    bindPath({ validated: n, bindCounts: [n], restarted: n, batchSize, online }, timing);

export const addInstancesPath = (n: number, added: number, timing: TimingModel) =>
    bindPath({ validated: n + added, bindCounts: [added], restarted: added, batchSize: 0 }, timing);

/** Refresh: both reads are independent (one latency). */
export const refreshPath = (n: number, timing: TimingModel) =>
    path([step("DescribeKeyPairs ‖ DescribeInstances", { DescribeKeyPairs: 1, DescribeInstances: ceilDiv(n, DESCRIBE_BATCH) }, timing)]);

/** Destroy: which instances still hold the key → unbind them. */
export const destroyPath = (n: number, timing: TimingModel, detachCalls = ceilDiv(n, ATTACH_DETACH_BATCH)) =>
    path([
        step("DescribeInstances", { DescribeInstances: ceilDiv(n, DESCRIBE_BATCH) }, timing),
        step("DetachKeyPair", { DetachKeyPair: detachCalls }, timing),
    ]);

/**
 * The peer: the Terraform provider's `alicloud_ecs_key_pair_attachment` reboots one instance per call
 * and waits for each in turn — about 2N + 15 calls and at least 5 s per instance; it fails above 50.
 */
export const PEER_MAX_INSTANCES = 50;
export const peerCalls = (n: number) => 2 * n + 15;
export const peerWallMs = (n: number) => 5_000 * n;
