import { EcsGateway } from "../../provider/ecs/gateway";
import { InstanceFacts } from "../../provider/ecs/instance";
import { RateLimiters } from "../../provider/ecs/rate-limiter";
import { Clock } from "../../provider/clock";
import { RestartHistory, waitFor } from "../../provider/restart";

/** A fake clock and a gateway whose instance states follow a script over (fake) time; each call takes `latencyMs`. */
function scripted(statusAt: (ms: number) => string, latencyMs = 0) {
    let now = 0;
    const polls: number[] = [];
    const clock: Clock = { now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)) };
    const gateway = {
        describeInstances: (_region: string, ids: readonly string[]) => {
            polls.push(now);
            const status = statusAt(now);
            now += latencyMs;
            const facts = new Map(
                ids.map((id) => [
                    id,
                    {
                        instanceId: id,
                        status,
                        osType: "linux",
                        ioOptimized: true,
                        lockedForSecurity: false,
                    },
                ]),
            );
            return Promise.resolve(facts);
        },
    } as unknown as EcsGateway;
    return { clock, gateway, polls };
}

const running = (f: InstanceFacts | undefined) => f?.status === "Running";

describe("waitFor (status polling)", () => {
    test("backs off while nothing changes, capped at twice the interval, and resets when something moves", async () => {
        // Stopping until 500 ms, Starting until 3000 ms, then Running.
        const { clock, gateway, polls } = scripted((t) => (t < 500 ? "Stopping" : t < 3000 ? "Starting" : "Running"));
        const result = await waitFor(gateway, "r", ["i-1"], running, { timeoutSeconds: 60, pollIntervalSeconds: 0.25 }, clock);
        expect(result.unfinished).toEqual([]);
        // Stopping → Starting at 500 ms is a change (back to 250 ms); then 375, then the 500 ms cap.
        expect(polls).toEqual([250, 500, 750, 1125, 1625, 2125, 2625, 3125]);
    });

    test("the first poll can wait for the expected restart time", async () => {
        const { clock, gateway, polls } = scripted((t) => (t < 2000 ? "Starting" : "Running"));
        await waitFor(gateway, "r", ["i-1"], running, { timeoutSeconds: 60, pollIntervalSeconds: 0.25, firstPollAfterMs: 1800 }, clock);
        expect(polls).toEqual([1800, 2050]);
    });

    test("polls on a fixed schedule from the start, whatever the calls' latency, without backoff before the expected restart time", async () => {
        // Each call takes 20 ms; Stopping until 500 ms, Starting until 1990 ms, then Running.
        const { clock, gateway, polls } = scripted((t) => (t < 500 ? "Stopping" : t < 1990 ? "Starting" : "Running"), 20);
        const options = { timeoutSeconds: 60, pollIntervalSeconds: 0.25, firstPollAfterMs: 1000, expectedDoneAfterMs: 2000 };
        const result = await waitFor(gateway, "r", ["i-1"], running, options, clock);
        expect(result.unfinished).toEqual([]);
        // Not 1000, 1270, 1560, …: the schedule is counted from the start, and Starting twice in a row is no reason to slow down yet.
        expect(polls).toEqual([1000, 1250, 1500, 1750, 2000]);
    });

    test("after the expected restart time, polling backs off on the same schedule", async () => {
        const { clock, gateway, polls } = scripted((t) => (t < 3000 ? "Starting" : "Running"), 20);
        const options = { timeoutSeconds: 60, pollIntervalSeconds: 0.25, firstPollAfterMs: 1000, expectedDoneAfterMs: 1000 };
        await waitFor(gateway, "r", ["i-1"], running, options, clock);
        expect(polls).toEqual([1000, 1250, 1625, 2125, 2625, 3125]);
    });

    test("returns for each instance the facts of the poll that saw it there, not only the last poll's", async () => {
        // i-1 is Running from 500 ms on, i-2 from 1500 ms: the last poll names only i-2.
        const { clock, gateway, polls } = scripted((t) => (t < 500 ? "Starting" : "Running"));
        const later = {
            describeInstances: async (region: string, ids: readonly string[]) => {
                const facts = await gateway.describeInstances(region, ids);
                if (clock.now() < 1500) facts.set("i-2", { ...facts.get("i-2")!, status: "Starting" });
                return facts;
            },
        } as unknown as EcsGateway;
        const result = await waitFor(later, "r", ["i-1", "i-2"], running, { timeoutSeconds: 60, pollIntervalSeconds: 0.5 }, clock);
        expect(polls).toEqual([500, 1000, 1750]);
        expect(result.unfinished).toEqual([]);
        expect([...result.facts].map(([id, f]) => [id, f.status])).toEqual([
            ["i-1", "Running"],
            ["i-2", "Running"],
        ]);
    });

    test("returns the instances that never got there when the timeout passes", async () => {
        const { clock, gateway } = scripted(() => "Starting");
        const result = await waitFor(gateway, "r", ["i-1", "i-2"], running, { timeoutSeconds: 2, pollIntervalSeconds: 0.5 }, clock);
        expect(result.unfinished).toEqual(["i-1", "i-2"]);
        expect(clock.now()).toBe(2000);
    });
});

describe("RestartHistory", () => {
    test("polls after one interval until a restart was seen, then near the time it took", () => {
        const history = new RestartHistory();
        expect(history.firstPollAfterMs(250)).toBe(250);
        history.record(2000);
        expect(history.firstPollAfterMs(250)).toBe(1800);
        history.record(100);
        expect(history.firstPollAfterMs(250)).toBe(250);
    });

    test("expects the next restart to take as long as the last one, and never less than the floor", () => {
        const history = new RestartHistory(1000);
        expect(history.expectedMs()).toBe(1000);
        history.record(2000);
        expect(history.expectedMs()).toBe(2000);
        history.record(500);
        expect(history.expectedMs()).toBe(1000);
    });

    test("with a floor, even the first wave waits that long before its first poll", () => {
        const history = new RestartHistory(1000);
        expect(history.firstPollAfterMs(250)).toBe(1000);
        history.record(3000);
        expect(history.firstPollAfterMs(250)).toBe(2700);
    });
});

describe("RateLimiters", () => {
    test("an action seen for the first time starts unlimited, whatever the others learned (ECS counts each API on its own quota)", async () => {
        let now = 0;
        const limiters = new RateLimiters({ now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)) });
        expect(limiters.for("DescribeInstances").rate()).toBe(Infinity);
        for (let i = 0; i < 20; i++) await limiters.for("DescribeInstances").acquire();
        limiters.for("DescribeInstances").onThrottled();
        expect(limiters.for("DescribeInstances").rate()).toBeCloseTo(14);
        expect(limiters.for("DetachKeyPair").rate()).toBe(Infinity);
    });
});
