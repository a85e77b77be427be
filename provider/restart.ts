/**
 * Restart orchestration: reboot in waves (all at once, or rolling by `batchSize`), wait until each
 * wave is Running again within its timeout, and wait out transitional states before changing keys.
 * Status polling uses DescribeInstances: one call per 100 instances (DescribeInstanceStatus pages at
 * 50, which would double the calls).
 */
import { Clock } from "./clock";
import { EcsGateway } from "./ecs/gateway";
import { InstanceFacts, InstanceFailure, TRANSITIONAL_STATUSES } from "./ecs/instance";
import { classifyError, errorCode, errorMessage } from "./ecs/retry";
import { chunk } from "./plan";

export interface WaitOptions {
    timeoutSeconds: number;
    pollIntervalSeconds: number;
    /** Wait this long before the first poll (default: one poll interval). */
    firstPollAfterMs?: number;
    /** No backoff before this long after the start: polls keep the interval until the restart is expected to be over (default 0). */
    expectedDoneAfterMs?: number;
    /** Told after each status poll which instances are still awaited (progress lines). */
    onPoll?: (waiting: readonly string[]) => void;
}

/** Where a restart is at: wave `wave` of `waves`; `done` of `total` instances restarted (Running again). */
export interface RestartProgressEvent {
    wave: number;
    waves: number;
    done: number;
    total: number;
    /** The instances of this wave. */
    instanceIds: readonly string[];
}

/** Told as each wave starts, after each poll of it, and as it ends (see progress.ts). */
export interface RestartObserver {
    waveStarted(event: RestartProgressEvent): void;
    wavePolled(event: RestartProgressEvent): void;
    waveEnded(event: RestartProgressEvent): void;
}

// Polling backs off while nothing changes (ECS throttling guidance, ecs-api.md §7), up to this
// multiple of the configured interval, and returns to the interval as soon as something moves —
// but not before the restart is expected to be over (`expectedDoneAfterMs`): until then the polls
// keep the interval, so the one that sees Running comes at most one interval late.
const MAX_POLL_BACKOFF = 2;
const POLL_BACKOFF_FACTOR = 1.5;
/** The first poll of a restart wave comes at this share of the restart time seen last. */
const EXPECTED_RESTART_SHARE = 0.9;

/**
 * How long restarts took in this provider process, so that later waves (a rolling restart, or the
 * other attachments of one `pulumi up`) poll first when the instances are about to be back, not
 * several times while they are still booting.
 */
export class RestartHistory {
    private lastMs?: number;

    /** `floorMs`: no restart is expected to be over sooner than this (the first poll waits at least this long). */
    constructor(private readonly floorMs = 0) {}

    record(durationMs: number): void {
        this.lastMs = durationMs;
    }

    firstPollAfterMs(pollIntervalMs: number): number {
        return Math.max(pollIntervalMs, this.floorMs, (this.lastMs ?? 0) * EXPECTED_RESTART_SHARE);
    }

    /** How long the next restart is expected to take: the last one seen, else the floor. */
    expectedMs(): number {
        return Math.max(this.floorMs, this.lastMs ?? 0);
    }
}

/** An ECS reboot takes tens of seconds; none is over within a second, so the first poll never comes sooner. */
export const MIN_PLAUSIBLE_RESTART_MS = 1_000;
/**
 * Polls until `done` holds for every instance or the timeout passes. Returns the last facts seen of
 * each instance (for one that got there: the poll that saw it there) and the instances that never did.
 */
export async function waitFor(
    gateway: EcsGateway,
    region: string,
    instanceIds: readonly string[],
    done: (facts: InstanceFacts | undefined) => boolean,
    options: WaitOptions,
    clock: Clock,
): Promise<{ facts: Map<string, InstanceFacts>; unfinished: string[]; error?: unknown }> {
    const startedAt = clock.now();
    const deadline = startedAt + options.timeoutSeconds * 1000;
    const baseMs = options.pollIntervalSeconds * 1000;
    const backoffFrom = startedAt + (options.expectedDoneAfterMs ?? 0);
    let intervalMs = baseMs;
    // Polls are due on a schedule counted from the start, not an interval after each answer, so the
    // calls' own latency does not push every later poll back.
    let dueAt = startedAt + (options.firstPollAfterMs ?? baseMs);
    let waiting = [...instanceIds];
    const facts = new Map<string, InstanceFacts>();
    let previous = "";
    for (;;) {
        const now = clock.now();
        if (deadline - now <= 0) return { facts, unfinished: waiting };
        const waitMs = Math.min(dueAt, deadline) - now;
        if (waitMs > 0) await clock.sleep(waitMs);
        const polledAt = Math.max(dueAt, clock.now());
        try {
            for (const [id, instance] of await gateway.describeInstances(region, waiting)) facts.set(id, instance);
        } catch (error) {
            // The gateway has already retried; a transient failure just costs this poll. A fatal one
            // (credentials revoked, say) will not pass by waiting.
            if (classifyError(error) === "fatal") return { facts, unfinished: waiting, error };
            dueAt = polledAt + intervalMs;
            continue;
        }
        waiting = waiting.filter((id) => !done(facts.get(id)));
        options.onPoll?.(waiting);
        if (waiting.length === 0) return { facts, unfinished: [] };
        const snapshot = waiting.map((id) => `${id}=${facts.get(id)?.status}`).join(",");
        const unchanged = snapshot === previous && polledAt >= backoffFrom;
        intervalMs = unchanged ? Math.min(intervalMs * POLL_BACKOFF_FACTOR, baseMs * MAX_POLL_BACKOFF) : baseMs;
        previous = snapshot;
        dueAt = polledAt + intervalMs;
    }
}

const isStable = (f: InstanceFacts | undefined) => !f || !TRANSITIONAL_STATUSES.includes(f.status);

/** Waits until no instance is Pending, Starting or Stopping (AttachKeyPair and reboots refuse those states). */
export async function waitUntilStable(
    gateway: EcsGateway,
    region: string,
    instanceIds: readonly string[],
    options: WaitOptions,
    clock: Clock,
): Promise<void> {
    const { facts, unfinished, error } = await waitFor(gateway, region, instanceIds, isStable, options, clock);
    if (error) throw error instanceof Error ? error : new Error(errorMessage(error));
    if (unfinished.length) {
        const states = unfinished.map((id) => `${id} (${facts.get(id)?.status})`).join(", ");
        throw new Error(
            `Timed out after ${options.timeoutSeconds} s waiting for instances to leave a transitional state: ${states}. ` +
                "Nothing was changed. Check them in the ECS console, or raise restart.timeoutSeconds.",
        );
    }
}

export interface RestartOptions extends WaitOptions {
    force: boolean;
    /** At most this many restarting at once; 0 = all at once. */
    batchSize: number;
    /** Wait out "not ready" answers to RebootInstances this long, in milliseconds (fresh instances). */
    readyWithinMs?: number;
    /** Called with each wave's instances that are Running again, before the next wave starts. */
    onRestarted?: (instanceIds: readonly string[], lastSeen: ReadonlyMap<string, InstanceFacts>) => Promise<void>;
    /** StartTime per instance as DescribeInstances showed it before the reboot (see `restartInstances`). */
    startTimeBefore?: ReadonlyMap<string, string | undefined>;
    /** How long DescribeInstances may still show the state from before a change, in milliseconds. Default LAGGING_VIEW_MS. */
    laggingViewMs?: number;
}

/** DescribeInstances can lag a change by a few seconds (issue 11; the provider re-reads 3.5 s, visibility.ts). */
export const LAGGING_VIEW_MS = 3_500;

export interface RestartOutcome {
    /** Rebooted and Running again. */
    restarted: string[];
    /** Rebooted but refused, or not Running again within the timeout. */
    failed: InstanceFailure[];
    /**
     * Never rebooted: the reboot was refused, or an earlier rolling wave failed and cut it off. Only
     * these are owed a restart later; an instance that was rebooted but not seen Running again is not
     * rebooted a second time.
     */
    owed: string[];
    /**
     * The last facts seen of each rebooted instance — for a restarted one, the poll that saw it
     * Running again — so that the caller can tell which of them show a change, without another read.
     */
    lastSeen: Map<string, InstanceFacts>;
}

/** The waves of a restart: all at once (`batchSize` 0), or at most `batchSize` at a time. */
export function restartWaves(instanceIds: readonly string[], batchSize: number): string[][] {
    return batchSize > 0 ? chunk(instanceIds, batchSize) : instanceIds.length ? [[...instanceIds]] : [];
}

/**
 * Whether an instance is Running again after its reboot. A lagging DescribeInstances can still
 * show it Running from before the reboot, which would start the next rolling wave while this one
 * is down: so Running counts once the instance was seen not Running since the reboot, or its
 * StartTime moved, or the lag allowance has passed (real ECS gives StartTime to the minute, so a
 * restart within the minute of the last start leaves it unchanged).
 */
function runningAfterReboot(rebootedAt: number, options: RestartOptions, clock: Clock): (f: InstanceFacts | undefined) => boolean {
    const seenDown = new Set<string>();
    return (f) => {
        if (!f) return false;
        if (f.status !== "Running") {
            seenDown.add(f.instanceId);
            return false;
        }
        const before = options.startTimeBefore?.get(f.instanceId);
        const startTimeMoved = before !== undefined && f.startTime !== undefined && f.startTime !== before;
        return seenDown.has(f.instanceId) || startTimeMoved || clock.now() - rebootedAt >= (options.laggingViewMs ?? LAGGING_VIEW_MS);
    };
}

/**
 * Reboots the instances wave by wave and waits for each wave to be Running again. A rolling restart
 * stops at the first wave that does not come back, so a bad change never takes down more than one
 * wave; the instances it did not reach are returned as owed.
 */
export async function restartInstances(
    gateway: EcsGateway,
    region: string,
    instanceIds: readonly string[],
    options: RestartOptions,
    clock: Clock,
    history: RestartHistory = new RestartHistory(),
    observer?: RestartObserver,
): Promise<RestartOutcome> {
    const outcome: RestartOutcome = { restarted: [], failed: [], owed: [], lastSeen: new Map() };
    const waves = restartWaves(instanceIds, options.batchSize);
    for (const [index, wave] of waves.entries()) {
        if (wave.length === 0) continue;
        const event = (done: number) => ({ wave: index + 1, waves: waves.length, done, total: instanceIds.length, instanceIds: wave });
        observer?.waveStarted(event(outcome.restarted.length));
        const rebooted = await gateway.rebootInstances(region, wave, options.force, { readyWithinMs: options.readyWithinMs });
        outcome.failed.push(...rebooted.failed);
        outcome.owed.push(...rebooted.failed.map((f) => f.instanceId));
        const rebootedAt = clock.now();
        const firstPollAfterMs = history.firstPollAfterMs(options.pollIntervalSeconds * 1000);
        const { facts, unfinished, error } = await waitFor(
            gateway,
            region,
            rebooted.succeeded,
            runningAfterReboot(rebootedAt, options, clock),
            {
                ...options,
                firstPollAfterMs,
                expectedDoneAfterMs: history.expectedMs(),
                onPoll: (waiting) => observer?.wavePolled(event(outcome.restarted.length + rebooted.succeeded.length - waiting.length)),
            },
            clock,
        );
        for (const [id, instance] of facts) outcome.lastSeen.set(id, instance);
        if (unfinished.length === 0 && rebooted.succeeded.length) history.record(clock.now() - rebootedAt);
        const restarted = rebooted.succeeded.filter((id) => !unfinished.includes(id));
        outcome.restarted.push(...restarted);
        if (restarted.length && options.onRestarted) await options.onRestarted(restarted, outcome.lastSeen);
        observer?.waveEnded(event(outcome.restarted.length));
        for (const instanceId of unfinished) {
            outcome.failed.push(
                error
                    ? {
                          instanceId,
                          code: errorCode(error) ?? "StatusUnknown",
                          message: `restarted, but its status could not be read: ${errorMessage(error)}`,
                      }
                    : {
                          instanceId,
                          code: "RestartTimeout",
                          message: `not Running ${options.timeoutSeconds} s after its restart (status ${facts.get(instanceId)?.status ?? "unknown"})`,
                      },
            );
        }
        if (outcome.failed.length && index < waves.length - 1) {
            outcome.owed.push(...waves.slice(index + 1).flat());
            break;
        }
    }
    return outcome;
}
