import { Random } from "../../provider/clock";
import { DEFAULT_RETRY_OPTIONS, RetryBudget, RetryOptions, backoffDelayMs, classifyError, withRetries } from "../../provider/ecs/retry";

function ecsError(code: string, statusCode = 400) {
    return Object.assign(new Error(`${code}: code: ${statusCode}`), { code, statusCode });
}

/** A random source that always draws `value`. */
function fraction(value: number): Random {
    return { fraction: () => value, hex: (bytes) => "0".repeat(bytes * 2) };
}

/** An operation from a plain function: what it throws becomes a rejection, what it returns a resolution. */
function attempt<T>(operation: () => T): () => Promise<T> {
    return () => new Promise<T>((resolve) => resolve(operation()));
}

function options(overrides: Partial<RetryOptions> = {}): RetryOptions & { delays: number[] } {
    const delays: number[] = [];
    return {
        maxAttempts: 5,
        baseDelayMs: 100,
        throttlingBaseDelayMs: 1000,
        maxDelayMs: 5000,
        budget: new RetryBudget(),
        random: fraction(1),
        clock: {
            now: () => 0,
            sleep: (ms) => {
                delays.push(ms);
                return Promise.resolve();
            },
        },
        delays,
        ...overrides,
    };
}

describe("classifyError", () => {
    test.each([
        [ecsError("Throttling"), "throttling"],
        [ecsError("Throttling.User"), "throttling"],
        [ecsError("Throttling.Api"), "throttling"],
        [ecsError("ServiceUnavailable", 503), "transient"],
        [ecsError("LimitedOperation.ServiceUnavailable", 503), "transient"],
        [ecsError("InternalError", 500), "transient"],
        [ecsError("InvalidOperation.Conflict", 409), "transient"],
        [ecsError("OperationConflict", 409), "transient"],
        [ecsError("SomethingNew", 502), "transient"],
        [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "transient"],
        [Object.assign(new Error("ReadTimeout"), { name: "RequestTimeoutError" }), "transient"],
        [ecsError("InvalidKeyPairName.NotFound"), "fatal"],
        [ecsError("IncorrectInstanceStatus", 403), "fatal"],
        [new Error("plain"), "fatal"],
    ])("%s → %s", (error, kind) => {
        expect(classifyError(error)).toBe(kind);
    });
});

describe("withRetries", () => {
    test("retries throttling with a larger backoff base, then succeeds", async () => {
        const opts = options();
        let calls = 0;
        const result = await withRetries(
            attempt(() => {
                calls++;
                if (calls < 3) throw ecsError("Throttling.User");
                return "ok";
            }),
            opts,
        );
        expect(result).toBe("ok");
        expect(calls).toBe(3);
        expect(opts.delays).toEqual([1000, 2000]);
    });

    test("does not retry a client error", async () => {
        const opts = options();
        let calls = 0;
        await expect(
            withRetries(
                attempt(() => {
                    calls++;
                    throw ecsError("InvalidKeyPairName.NotFound");
                }),
                opts,
            ),
        ).rejects.toThrow("InvalidKeyPairName.NotFound");
        expect(calls).toBe(1);
    });

    test("stops at the attempt cap", async () => {
        const opts = options({ maxAttempts: 3 });
        let calls = 0;
        await expect(
            withRetries(
                attempt(() => {
                    calls++;
                    throw ecsError("InternalError", 500);
                }),
                opts,
            ),
        ).rejects.toThrow("InternalError");
        expect(calls).toBe(3);
    });

    test("paced by the rate limiter (the gateway's calls), the first retry after throttling has no backoff of its own; later ones back off from the base", () => {
        const opts = { ...options({ random: fraction(0.5) }), throttlingPacedByLimiter: true };
        expect([1, 2, 3].map((attempt) => backoffDelayMs("throttling", attempt, opts))).toEqual([0, 500, 1000]);
        // Other errors are not paced by the limiter: unchanged.
        expect(backoffDelayMs("transient", 1, opts)).toBe(50);
        expect(DEFAULT_RETRY_OPTIONS.throttlingPacedByLimiter).toBe(true);
    });

    test("backoff is full jitter, capped", () => {
        const opts = options({ random: fraction(0.5) });
        expect(backoffDelayMs("transient", 1, opts)).toBe(50);
        expect(backoffDelayMs("transient", 3, opts)).toBe(200);
        expect(backoffDelayMs("throttling", 10, opts)).toBe(2500);
    });

    test("a shared budget bounds retries across calls", async () => {
        const budget = new RetryBudget(12, 5, 10);
        const opts = options({ budget, maxAttempts: 10 });
        let calls = 0;
        const failing = () =>
            withRetries(
                attempt(() => {
                    calls++;
                    throw ecsError("Throttling");
                }),
                opts,
            );
        await expect(failing()).rejects.toThrow("Throttling");
        // 12 tokens pay for two retries of 5: three attempts, then the budget is spent.
        expect(calls).toBe(3);
        calls = 0;
        await expect(failing()).rejects.toThrow("Throttling");
        expect(calls).toBe(1);
    });

    test("success refills the budget", async () => {
        const budget = new RetryBudget(20, 5, 10);
        const opts = options({ budget });
        let first = true;
        await withRetries(
            attempt(() => {
                if (first) {
                    first = false;
                    throw ecsError("Throttling");
                }
                return 1;
            }),
            opts,
        );
        expect(budget.available()).toBe(20);
    });

    test("beforeRetry can stop a retry (a reboot whose answer was lost)", async () => {
        const opts = options();
        let calls = 0;
        await expect(
            withRetries(
                attempt(() => {
                    calls++;
                    throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
                }),
                opts,
                { beforeRetry: () => Promise.resolve("stop" as const) },
            ),
        ).rejects.toThrow("reset");
        expect(calls).toBe(1);
    });
});
