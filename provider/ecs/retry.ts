/**
 * Retrying ECS calls: classification (what failed), strategy (attempts, shared budget) and backoff
 * (capped full jitter) are separate, as in @smithy/util-retry. Randomness and sleeping are injected
 * so that tests are deterministic and never sleep.
 */
import { Clock, Random, realClock, realRandom } from "../clock";

export type ErrorKind = "throttling" | "transient" | "fatal";

// ECS/POP throttling codes (ecs-api.md §5.2, §7: Throttling, Throttling.User, Throttling.Api; the SDK
// raises ThrottlingError for any code containing "Throttling", e.g. Rejected.Throttling).
const THROTTLING_CODE = /Throttling/;

// Temporary server-side conditions (ecs-api.md §7 suggested policy; the Terraform provider's
// NeedRetry and its ECS retry lists): the same request may succeed later.
export const TRANSIENT_CODES: readonly string[] = [
    "ServiceUnavailable",
    "LimitedOperation.ServiceUnavailable",
    "InternalError",
    "InvalidOperation.Conflict",
    "OperationConflict",
];

// What fresh instances answer while ECS finishes creating them, besides the transient codes above:
// real clients see it for minutes after RunInstances (issue 11; the Terraform provider waits out
// AttachKeyPair's ServiceUnavailable for 5 minutes). Retried within the readiness window only.
export const NOT_READY_CODES: readonly string[] = ["IncorrectInstanceStatus.Initializing"];

/**
 * The codes waited out within the readiness window (`waitForReadySeconds`), per instance inside an
 * HTTP 200 (`Results.Result[]`, `InstanceResponses`) or for the request once its own retries are
 * spent: they say "not now" rather than "never" about a fresh instance (issue 11). The same
 * instances are sent again, alone of their batch. Other transient codes (InternalError) get only
 * the retries of one call.
 */
export const NOT_READY_WINDOW_CODES: readonly string[] = [...NOT_READY_CODES, "ServiceUnavailable", "InvalidOperation.Conflict"];

/**
 * Request-level errors that one instance of the request causes (older ECS documentation lists
 * DependencyViolation.WindowsInstance and InvalidInstanceIds.ValueNotSupported at request level for
 * AttachKeyPair; a missing or malformed id fails the whole request). In a call coalesced from many
 * resources, the resource that sent the instance fails alone; the others are sent again without it.
 */
export const INSTANCE_CAUSED_CODES: readonly string[] = [
    "DependencyViolation.WindowsInstance",
    "InvalidInstanceIds.ValueNotSupported",
    "InvalidInstanceId.NotFound",
    "InvalidInstanceId.MalFormed",
    "IncorrectInstanceStatus",
    "IncorrectInstanceStatus.Initializing",
    "InstanceLockedForSecurity",
];

// Node socket errors and httpx's timeout error: the request may or may not have reached ECS.
export const NETWORK_ERROR_CODES: readonly string[] = [
    "ECONNRESET",
    "ECONNREFUSED",
    "ECONNABORTED",
    "ETIMEDOUT",
    "EPIPE",
    "EAI_AGAIN",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "RequestTimeout",
];

interface ErrorLike {
    code?: unknown;
    name?: unknown;
    statusCode?: unknown;
    message?: unknown;
}

export function errorCode(error: unknown): string | undefined {
    const code = (error as ErrorLike | undefined)?.code;
    return typeof code === "string" ? code : undefined;
}

/** The message of an error as thrown by the SDK, a socket or anything else. */
export function errorMessage(error: unknown): string {
    if (error instanceof Error) return error.message;
    return typeof error === "string" ? error : JSON.stringify(error);
}

/** True when the request may have been carried out although no answer came back. */
export function isNetworkError(error: unknown): boolean {
    const e = error as ErrorLike | undefined;
    return NETWORK_ERROR_CODES.includes(errorCode(error) ?? "") || e?.name === "RequestTimeoutError";
}

/**
 * A gateway in front of ECS answered with a page that is not JSON (an HTML 502/504, an empty body):
 * the SDK's JSON parse then throws a bare SyntaxError with no code and no HTTP status (measured
 * with @alicloud/ecs20140526 7.x against an HTML 502, an HTML 504 and an empty 502). The request
 * may have been carried out, so it counts as unanswered.
 */
export function isUnreadableAnswer(error: unknown): boolean {
    return error instanceof SyntaxError || (error as ErrorLike | undefined)?.name === "SyntaxError";
}

/**
 * The request was sent but the answer did not come in time (httpx's ReadTimeout): ECS may still
 * carry it out after this. A connect timeout means nothing was sent.
 */
export function isTimeout(error: unknown): boolean {
    const e = error as ErrorLike | undefined;
    return e?.name === "RequestTimeoutError" && /ReadTimeout/.test(String(e?.message));
}

export function classifyError(error: unknown): ErrorKind {
    const code = errorCode(error) ?? "";
    if (THROTTLING_CODE.test(code)) return "throttling";
    if (TRANSIENT_CODES.includes(code) || NOT_READY_CODES.includes(code) || isNetworkError(error) || isUnreadableAnswer(error)) {
        return "transient";
    }
    const status = Number((error as ErrorLike | undefined)?.statusCode);
    if (status >= 500 && status <= 599) return "transient";
    return "fatal";
}

/**
 * A token bucket shared by every call of one provider process (all attachments of a `pulumi up`):
 * a retry spends tokens, a success returns one, and when the bucket is empty calls fail instead of
 * retrying, so a throttling storm cannot multiply the load (smithy's retry quota).
 */
export class RetryBudget {
    private tokens: number;

    constructor(
        private readonly capacity = 500,
        private readonly retryCost = 5,
        private readonly timeoutRetryCost = 10,
    ) {
        this.tokens = capacity;
    }

    tryAcquire(networkError: boolean): number | undefined {
        const cost = networkError ? this.timeoutRetryCost : this.retryCost;
        if (this.tokens < cost) return undefined;
        this.tokens -= cost;
        return cost;
    }

    /** A call succeeded: return what its retries cost, or one token for a first-try success. */
    release(spent: number): void {
        this.tokens = Math.min(this.capacity, this.tokens + (spent > 0 ? spent : 1));
    }

    available(): number {
        return this.tokens;
    }
}

export interface RetryOptions {
    /** Attempts per call, the first included. */
    maxAttempts: number;
    /** Backoff base for transient errors, in milliseconds. */
    baseDelayMs: number;
    /** Backoff base after throttling: ECS counts quotas per minute, so back off harder (ecs-api.md §7). */
    throttlingBaseDelayMs: number;
    /** Cap of one backoff delay, in milliseconds. */
    maxDelayMs: number;
    /**
     * Every attempt waits for the action's rate-limiter slot (the gateway's calls), which after a
     * throttling answer holds it until the calls that filled ECS's window have left it: so the first
     * retry after throttling needs no backoff of its own, and later ones back off from the base.
     */
    throttlingPacedByLimiter?: boolean;
    budget: RetryBudget;
    /** Jitter of the backoff. */
    random: Random;
    /** Sleeps the backoff. */
    clock: Clock;
}

/** One budget per provider process: module state is shared by every resource the process serves. */
export const sharedRetryBudget = new RetryBudget();

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
    maxAttempts: 8,
    baseDelayMs: 200,
    throttlingBaseDelayMs: 1000,
    maxDelayMs: 20_000,
    throttlingPacedByLimiter: true,
    budget: sharedRetryBudget,
    random: realRandom,
    clock: realClock,
};

/** Full jitter: a uniform delay between 0 and the capped exponential bound. */
export function backoffDelayMs(kind: ErrorKind, attempt: number, options: RetryOptions): number {
    const paced = kind === "throttling" && options.throttlingPacedByLimiter === true;
    if (paced && attempt === 1) return 0;
    const base = kind === "throttling" ? options.throttlingBaseDelayMs : options.baseDelayMs;
    const bound = Math.min(options.maxDelayMs, base * 2 ** (attempt - (paced ? 2 : 1)));
    return Math.floor(options.random.fraction() * bound);
}

export interface RetryHooks {
    /**
     * Called right after a failure that will be retried, before the backoff: may decide that the
     * failed call must not simply be sent again (it is called before sleeping so that it looks at
     * the system as close to the failure as possible).
     */
    beforeRetry?: (error: unknown, kind: ErrorKind, attempt: number) => Promise<"retry" | "stop">;
}

/** Runs `operation`, retrying throttling and transient failures within the attempt cap and the budget. */
export async function withRetries<T>(
    operation: (attempt: number) => Promise<T>,
    options: RetryOptions = DEFAULT_RETRY_OPTIONS,
    hooks: RetryHooks = {},
): Promise<T> {
    let spent = 0;
    for (let attempt = 1; ; attempt++) {
        try {
            const result = await operation(attempt);
            options.budget.release(spent);
            return result;
        } catch (error) {
            const kind = classifyError(error);
            if (kind === "fatal" || attempt >= options.maxAttempts) throw error;
            const cost = options.budget.tryAcquire(isNetworkError(error));
            if (cost === undefined) throw error;
            spent += cost;
            if (hooks.beforeRetry && (await hooks.beforeRetry(error, kind, attempt)) === "stop") throw error;
            await options.clock.sleep(backoffDelayMs(kind, attempt, options));
        }
    }
}
