import { Coalescer } from "../../provider/ecs/coalesce";
import {
    AdaptiveRateLimiter,
    COUNTED_WINDOW_MS,
    MIN_RATE_PER_SECOND,
    RATE_FORGET_AFTER_MS,
    RATE_RECOVERY_DOUBLING_MS,
} from "../../provider/ecs/rate-limiter";

function recordingCoalescer(maxBatch = 3, fail?: (items: string[]) => boolean) {
    const batches: string[][] = [];
    const coalescer = new Coalescer<string, string>(
        // The window passes at once: requests made in the same tick still share it.
        { maxBatch, windowMs: 1, concurrency: 2, ready: () => Promise.resolve(), clock: { sleep: () => Promise.resolve() } },
        (key, items) =>
            new Promise((resolve) => {
                batches.push(items);
                if (fail?.(items)) throw Object.assign(new Error("boom"), { code: "InternalError" });
                resolve(new Map(items.filter((i) => i !== "missing").map((i) => [i, `${key}:${i}`])));
            }),
    );
    return { coalescer, batches };
}

describe("Coalescer", () => {
    test("merges concurrent requests under one key into batches of at most maxBatch", async () => {
        const { coalescer, batches } = recordingCoalescer(3);
        const [a, b, c] = await Promise.all([
            coalescer.request("k", ["1", "2"]),
            coalescer.request("k", ["2", "3", "4"]),
            coalescer.request("k", ["5"]),
        ]);
        expect(batches.flat().sort()).toEqual(["1", "2", "3", "4", "5"]);
        expect(batches.every((batch) => batch.length <= 3)).toBe(true);
        expect(batches).toHaveLength(2);
        expect([...a.keys()]).toEqual(["1", "2"]);
        expect(b.get("2")).toEqual({ ok: true, value: "k:2" });
        expect(c.get("5")).toEqual({ ok: true, value: "k:5" });
    });

    test("keeps keys apart", async () => {
        const { coalescer, batches } = recordingCoalescer();
        const [x, y] = await Promise.all([coalescer.request("x", ["1"]), coalescer.request("y", ["1"])]);
        expect(batches).toHaveLength(2);
        expect(x.get("1")).toEqual({ ok: true, value: "x:1" });
        expect(y.get("1")).toEqual({ ok: true, value: "y:1" });
    });

    test("an item without a result settles as undefined; a failed batch fails only its own items", async () => {
        const { coalescer } = recordingCoalescer(2, (items) => items.includes("bad"));
        const results = await coalescer.request("k", ["missing", "ok", "bad", "other"]);
        expect(results.get("missing")).toEqual({ ok: true, value: undefined });
        expect(results.get("ok")).toEqual({ ok: true, value: "k:ok" });
        expect(results.get("bad")).toMatchObject({ ok: false, error: expect.objectContaining({ code: "InternalError" }) as unknown });
        expect(results.get("other")).toMatchObject({ ok: false });
    });

    test("sends as many batches at once as the concurrency asked before each batch allows", async () => {
        let limit = Infinity;
        let inFlight = 0;
        let most = 0;
        const coalescer = new Coalescer<string, string>(
            {
                maxBatch: 1,
                windowMs: 1,
                concurrency: () => limit,
                ready: () => Promise.resolve(),
                clock: { sleep: () => Promise.resolve() },
            },
            async (_key, items) => {
                most = Math.max(most, ++inFlight);
                await new Promise((resolve) => setImmediate(resolve));
                inFlight--;
                return new Map(items.map((i) => [i, i]));
            },
        );
        await coalescer.request("k", ["1", "2", "3", "4", "5", "6"]);
        expect(most).toBe(6);
        limit = 2;
        most = 0;
        await coalescer.request("k", ["1", "2", "3", "4", "5", "6"]);
        expect(most).toBe(2);
    });

    test("a request for an item already in flight gets the answer of a call sent after it asked, not the earlier one", async () => {
        const calls: { items: string[]; answer: (ok: boolean) => void }[] = [];
        const coalescer = new Coalescer<string, number>(
            { maxBatch: 10, windowMs: 1, concurrency: 4, ready: () => Promise.resolve(), clock: { sleep: () => Promise.resolve() } },
            (_key, items) =>
                new Promise((resolve, reject) =>
                    calls.push({
                        items,
                        answer: (ok) => (ok ? resolve(new Map(items.map((i) => [i, calls.length]))) : reject(new Error("old"))),
                    }),
                ),
        );
        const settle = () => new Promise((resolve) => setImmediate(resolve));
        const early = coalescer.request("k", ["a"]);
        await settle();
        const late = coalescer.request("k", ["a", "b"]);
        await settle();
        calls[0].answer(false);
        expect((await early).get("a")).toMatchObject({ ok: false });
        await settle();
        expect(calls.map((c) => c.items)).toEqual([["a"], ["a", "b"]]);
        calls[1].answer(true);
        expect([...(await late).entries()]).toEqual([
            ["a", { ok: true, value: 2 }],
            ["b", { ok: true, value: 2 }],
        ]);
    });

    test("requests made after a drain finished are served too", async () => {
        const { coalescer, batches } = recordingCoalescer();
        await coalescer.request("k", ["1"]);
        const later = await coalescer.request("k", ["2"]);
        expect(later.get("2")).toEqual({ ok: true, value: "k:2" });
        expect(batches).toEqual([["1"], ["2"]]);
    });
});

describe("Coalescer idle window (manual clock)", () => {
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    function manual(options: { windowMs: number; maxWaitMs: number; maxBatch: number; busy?: () => boolean }) {
        let now = 0;
        const timers: { at: number; resolve: () => void }[] = [];
        const sent: { at: number; items: string[] }[] = [];
        const coalescer = new Coalescer<string, string>(
            {
                ...options,
                concurrency: Infinity,
                ready: () => Promise.resolve(),
                clock: { sleep: (ms) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })) },
            },
            (_key, items) => {
                sent.push({ at: now, items });
                return Promise.resolve(new Map(items.map((i) => [i, i])));
            },
        );
        /** Moves time on one millisecond at a time, firing the sleeps that are due. */
        const advance = async (ms: number) => {
            for (let i = 0; i < ms; i++) {
                now++;
                for (const timer of timers.filter((t) => t.at <= now)) {
                    timers.splice(timers.indexOf(timer), 1);
                    timer.resolve();
                }
                await settle();
            }
        };
        return { coalescer, sent, advance };
    }

    test("waits while requests keep arriving within the window, and sends once none came for the window", async () => {
        const { coalescer, sent, advance } = manual({ windowMs: 2, maxWaitMs: 50, maxBatch: 100 });
        const requests = [coalescer.request("k", ["a"])];
        await advance(1);
        requests.push(coalescer.request("k", ["b"]));
        await advance(1);
        requests.push(coalescer.request("k", ["c"]));
        await advance(3);
        expect(sent).toEqual([]);
        await advance(1);
        expect(sent).toEqual([{ at: 6, items: ["a", "b", "c"] }]);
        await Promise.all(requests);
    });

    test("never waits longer than maxWaitMs in all while requests keep arriving", async () => {
        const { coalescer, sent, advance } = manual({ windowMs: 2, maxWaitMs: 10, maxBatch: 100 });
        const requests: Promise<unknown>[] = [];
        for (let t = 0; t < 20; t++) {
            requests.push(coalescer.request("k", [`i${t}`]));
            await advance(1);
        }
        await advance(10);
        expect(sent[0].at).toBe(10);
        expect(sent[0].items).toEqual(Array.from({ length: 10 }, (_, t) => `i${t}`));
        expect(sent.flatMap((s) => s.items)).toHaveLength(20);
        await Promise.all(requests);
    });

    test("requests arriving in clumps: full batches go at once, the rest of a clump keeps gathering instead of leaving alone", async () => {
        const { coalescer, sent, advance } = manual({ windowMs: 5, maxWaitMs: 50, maxBatch: 4 });
        const clump = (prefix: string) => coalescer.request("k", [`${prefix}1`, `${prefix}2`, `${prefix}3`]);
        // Three clumps of 3, 2 ms apart (each released by another call's answer): 4 + 4 + 1, not 3 + 3 + 3 or 4 + 2 + 3.
        const requests = [clump("a")];
        await advance(2);
        requests.push(clump("b"));
        await advance(2);
        requests.push(clump("c"));
        await advance(10);
        expect(sent.map((s) => s.items.length)).toEqual([4, 4, 1]);
        // The first full batch left as it filled, not at the end of a window.
        expect(sent[0].at).toBeLessThan(2 + 5);
        await Promise.all(requests);
    });

    test("while other calls are in flight (busy), a partial batch keeps gathering past the idle window, at most maxWaitMs", async () => {
        let busy = true;
        const { coalescer, sent, advance } = manual({ windowMs: 2, maxWaitMs: 30, maxBatch: 10, busy: () => busy });
        const requests = [coalescer.request("k", ["a"])];
        await advance(10);
        // Idle for 10 ms, but another call's answer may still release requests: nothing sent yet.
        expect(sent).toEqual([]);
        requests.push(coalescer.request("k", ["b"]));
        busy = false;
        await advance(5);
        // b joined at 10; sent once a whole window (12 → 14) passed with no arrival and nothing in flight.
        expect(sent).toEqual([{ at: 14, items: ["a", "b"] }]);
        // Busy for ever: still sent once the longest wait is spent.
        busy = true;
        requests.push(coalescer.request("k", ["c"]));
        await advance(40);
        expect(sent.slice(1)).toEqual([{ at: 15 + 30, items: ["c"] }]);
        await Promise.all(requests);
    });

    test("a full batch is sent at once, without waiting for the window", async () => {
        const { coalescer, sent, advance } = manual({ windowMs: 2, maxWaitMs: 50, maxBatch: 2 });
        const first = coalescer.request("k", ["a"]);
        const second = coalescer.request("k", ["b"]);
        await settle();
        expect(sent).toEqual([{ at: 0, items: ["a", "b"] }]);
        await advance(2);
        await Promise.all([first, second]);
    });
});

describe("AdaptiveRateLimiter", () => {
    function fakeClock() {
        let now = 0;
        const sleeps: number[] = [];
        return {
            clock: {
                now: () => now,
                sleep: (ms: number) => {
                    sleeps.push(ms);
                    now += ms;
                    return Promise.resolve();
                },
            },
            sleeps,
            advance: (ms: number) => (now += ms),
        };
    }

    test("is unlimited until ECS throttles", async () => {
        const { clock, sleeps } = fakeClock();
        const limiter = new AdaptiveRateLimiter(clock);
        for (let i = 0; i < 100; i++) await limiter.acquire();
        expect(sleeps).toEqual([]);
        expect(limiter.rate()).toBe(Infinity);
    });

    test("after throttling, waits until the calls that filled ECS's window have left it, then sends at 70 % of the rate that was sent", async () => {
        const { clock, sleeps } = fakeClock();
        const limiter = new AdaptiveRateLimiter(clock);
        for (let i = 0; i < 30; i++) await limiter.acquire();
        limiter.onThrottled();
        expect(limiter.rate()).toBeCloseTo(21);
        // The 30 calls sent at 0 fill the window ECS counts until 1000 (and the margin for their travel): a call sooner would be refused again.
        await limiter.acquire();
        expect(sleeps).toEqual([COUNTED_WINDOW_MS]);
        const perWindow = Math.floor(limiter.rate());
        for (let i = 1; i < perWindow; i++) await limiter.acquire();
        expect(sleeps).toEqual([COUNTED_WINDOW_MS]);
        // A window's worth went at 1000: the next call waits until they leave it.
        await limiter.acquire();
        expect(sleeps).toEqual([COUNTED_WINDOW_MS, COUNTED_WINDOW_MS]);
    });

    test("a quiet second refills a burst of one second's calls (ECS counts a one-second window), then the next waits for the window", async () => {
        const { clock, sleeps, advance } = fakeClock();
        const limiter = new AdaptiveRateLimiter(clock);
        for (let i = 0; i < 30; i++) await limiter.acquire();
        limiter.onThrottled();
        advance(COUNTED_WINDOW_MS);
        const burst = Math.floor(limiter.rate());
        expect(burst).toBeGreaterThanOrEqual(21);
        for (let i = 0; i < burst; i++) await limiter.acquire();
        expect(sleeps).toEqual([]);
        await limiter.acquire();
        expect(sleeps).toEqual([COUNTED_WINDOW_MS]);
    });

    test("calls waiting for their slot are counted in the window too: concurrent callers never exceed one window's worth", async () => {
        // Timers on a virtual clock: concurrent sleeps each end at their own time, earliest first.
        let now = 0;
        const timers: { at: number; wake: () => void }[] = [];
        const clock = { now: () => now, sleep: (ms: number) => new Promise<void>((wake) => timers.push({ at: now + ms, wake })) };
        const limiter = new AdaptiveRateLimiter(clock);
        for (let i = 0; i < 10; i++) await limiter.acquire();
        limiter.onThrottled();
        const perWindow = Math.floor(limiter.rate());
        expect(perWindow).toBe(7);
        const sentAt: number[] = [];
        const all = Promise.all(Array.from({ length: 20 }, () => limiter.acquire().then(() => sentAt.push(now))));
        while (sentAt.length < 20) {
            await new Promise((resolve) => setImmediate(resolve));
            timers.sort((a, b) => a.at - b.at);
            const next = timers.shift();
            if (!next) continue;
            now = next.at;
            next.wake();
        }
        await all;
        // The ten calls at 0 filled the window: nothing goes before 1000, and no window of 1000 ms holds more than 7.
        expect(Math.min(...sentAt)).toBeGreaterThanOrEqual(1000);
        for (const t of sentAt) expect(sentAt.filter((u) => u > t - 1000 && u <= t).length).toBeLessThanOrEqual(perWindow);
        expect(Math.max(...sentAt)).toBeLessThan(4000);
    });

    test("the rate recovers over throttle-free time and the limit is dropped after a minute without throttling", async () => {
        const { clock, sleeps, advance } = fakeClock();
        const limiter = new AdaptiveRateLimiter(clock);
        for (let i = 0; i < 30; i++) await limiter.acquire();
        limiter.onThrottled();
        advance(RATE_RECOVERY_DOUBLING_MS);
        expect(limiter.rate()).toBeCloseTo(42);
        advance(RATE_FORGET_AFTER_MS - RATE_RECOVERY_DOUBLING_MS);
        expect(limiter.rate()).toBe(Infinity);
        for (let i = 0; i < 100; i++) await limiter.acquire();
        expect(sleeps).toEqual([]);
    });

    test("a burst of throttling answers counts once; the rate never drops below the floor", () => {
        const { clock, advance } = fakeClock();
        const limiter = new AdaptiveRateLimiter(clock);
        limiter.onThrottled();
        limiter.onThrottled();
        expect(limiter.rate()).toBe(MIN_RATE_PER_SECOND);
        advance(2000);
        limiter.onThrottled();
        expect(limiter.rate()).toBe(MIN_RATE_PER_SECOND);
    });

    test("successes raise the limit again", async () => {
        const { clock } = fakeClock();
        const limiter = new AdaptiveRateLimiter(clock);
        for (let i = 0; i < 10; i++) await limiter.acquire();
        limiter.onThrottled();
        const cut = limiter.rate();
        for (let i = 0; i < 10; i++) limiter.onSuccess();
        expect(limiter.rate()).toBeCloseTo(cut + 2);
    });
});
