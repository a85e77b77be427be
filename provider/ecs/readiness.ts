/**
 * Fresh instances are not ready at once: for minutes after RunInstances real ECS answers
 * AttachKeyPair and RebootInstances with IncorrectInstanceStatus.Initializing or ServiceUnavailable,
 * per instance inside `Results.Result[]` / `InstanceResponses` or for the whole request (issue 11;
 * the Terraform provider waits out AttachKeyPair's ServiceUnavailable for 5 minutes). Within the
 * resource's readiness window (`waitForReadySeconds`) the instances that answered so are sent again,
 * alone of their batch; the others' results stand. After the window the last answer is the result.
 */
import type { Clock, Random } from "../clock";
import type { InstanceFailure } from "./instance";
import { NOT_READY_WINDOW_CODES } from "./retry";

export interface ReadinessOptions {
    /** How long "not ready" answers are waited out, in milliseconds; 0 = send once. */
    windowMs: number;
    clock: Clock;
    random: Random;
    /** Default READINESS_BASE_DELAY_MS. */
    baseDelayMs?: number;
}

/** First wait between two rounds, in milliseconds: ECS finishes initializing in tens of seconds. */
export const READINESS_BASE_DELAY_MS = 2_000;
/** Longest wait between two rounds, in milliseconds (full jitter below it). */
export const READINESS_MAX_DELAY_MS = 20_000;

export interface RoundResult {
    succeeded: string[];
    failed: InstanceFailure[];
}

export function isNotReady(failure: Pick<InstanceFailure, "code">): boolean {
    return NOT_READY_WINDOW_CODES.includes(failure.code);
}

/**
 * Sends `round` for the instances, then again for those whose failure is transient, with capped
 * full-jitter backoff, until none is left or the window has passed. A failure that is not
 * transient is final at once. The last transient failures say how long they were waited for.
 */
export async function untilReady(
    instanceIds: readonly string[],
    round: (ids: readonly string[]) => Promise<RoundResult>,
    options: ReadinessOptions,
): Promise<RoundResult> {
    const deadline = options.clock.now() + options.windowMs;
    const succeeded: string[] = [];
    const failed: InstanceFailure[] = [];
    let pending: readonly string[] = instanceIds;
    for (let attempt = 1; ; attempt++) {
        const result = await round(pending);
        succeeded.push(...result.succeeded);
        const notReady = result.failed.filter(isNotReady);
        failed.push(...result.failed.filter((f) => !isNotReady(f)));
        const remainingMs = deadline - options.clock.now();
        if (notReady.length === 0 || remainingMs <= 0) {
            const waited =
                options.windowMs > 0 ? `; still not ready after ${Math.round(options.windowMs / 1000)} s (waitForReadySeconds)` : "";
            failed.push(...notReady.map((f) => ({ ...f, message: `${f.message}${waited}` })));
            return { succeeded, failed };
        }
        const baseMs = options.baseDelayMs ?? READINESS_BASE_DELAY_MS;
        const boundMs = Math.min(READINESS_MAX_DELAY_MS, baseMs * 2 ** (attempt - 1));
        await options.clock.sleep(Math.min(remainingMs, Math.max(1, Math.floor(options.random.fraction() * boundMs))));
        pending = notReady.map((f) => f.instanceId);
    }
}
