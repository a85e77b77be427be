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
    /** Restart waves: 0 (nothing to restart), 1 (all at once) or ⌈restarted / batchSize⌉ (rolling). */
    waves: number;
}

export interface TimingModel {
    /** One reboot, Running → Stopping → Starting → Running. */
    restartMs: number;
    /** Added by the emulator to every response. */
    latencyMs: number;
}

const ceilDiv = (n: number, size: number) => Math.ceil(n / size);

/** `pollCalls`: the status polls in `callsByAction` (of MIN_POLLS_PER_WAVE each per wave). */
function limit(callsByAction: CallsByAction, waves: number, pollCalls = 0): Limit {
    const nonZero = Object.fromEntries(Object.entries(callsByAction).filter(([, count]) => count > 0));
    const minCalls = Object.values(nonZero).reduce((a, b) => a + b, 0);
    const strictMinCalls = minCalls - pollCalls + (pollCalls / MIN_POLLS_PER_WAVE) * STRICT_POLLS_PER_WAVE;
    return { callsByAction: nonZero, minCalls, strictMinCalls, waves };
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
 */
export function bindLimit(options: { validated: number; bindCounts: number[]; restarted: number; batchSize: number }): Limit {
    const restart = restartCalls(options.restarted, options.batchSize);
    return limit(
        {
            DescribeKeyPairs: options.bindCounts.length,
            DescribeInstances: ceilDiv(options.validated, DESCRIBE_BATCH) + restart.polls,
            AttachKeyPair: options.bindCounts.reduce((sum, count) => sum + ceilDiv(count, ATTACH_DETACH_BATCH), 0),
            RebootInstances: restart.reboots,
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
 * The wall-time lower bound: every wave lasts one restart, plus the latency of the minimal calls as
 * if they were made one after another (the formula). A provider that overlaps calls can beat
 * the latency term, so a ratio below 1 is possible at large N.
 */
export function lowerBoundMs(l: Limit, timing: TimingModel): number {
    return l.waves * timing.restartMs + l.minCalls * timing.latencyMs;
}

/**
 * The peer: the Terraform provider's `alicloud_ecs_key_pair_attachment` reboots one instance per call
 * and waits for each in turn — about 2N + 15 calls and at least 5 s per instance; it fails above 50.
 */
export const PEER_MAX_INSTANCES = 50;
export const peerCalls = (n: number) => 2 * n + 15;
export const peerWallMs = (n: number) => 5_000 * n;
