/** Many attachments in one provider process share calls, the rate limit and the retry budget. */
import { Fixture, inputs, linuxInstances, startFixture, rejectionOf, steppingClock } from "./fixture";

describe("concurrent attachments in one provider process", () => {
    let f: Fixture;
    afterEach(async () => f?.close());

    test("20 attachments of 5 instances cost about what one attachment of 100 costs", async () => {
        const fleet = linuxInstances(100);
        // The production window (5 ms) merges the requests a process makes at once; answers arriving a
        // few milliseconds apart may split a call. A generous window makes the count exact: what is
        // measured is that concurrent attachments share calls, not how close in time they are.
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: fleet }, { coalesceWindowMs: 250 });
        const groups = Array.from({ length: 20 }, (_, g) => fleet.slice(g * 5, g * 5 + 5).map((i) => i.id));
        const results = await Promise.all(groups.map((ids) => f.hooks.create(inputs("ops", ids))));

        expect(results.map((r) => r.outs.instanceIds)).toEqual(groups);
        const counts = f.emulator.callCounts();
        // One attachment of 100 costs 1 DescribeKeyPairs, 2 AttachKeyPair (50 a call) and 1 RebootInstances.
        expect([counts.DescribeKeyPairs, counts.AttachKeyPair, counts.RebootInstances]).toEqual([1, 2, 1]);
        const notRestartedOnce = f.emulator.model.instances().filter((i) => i.rebootCount !== 1 || i.effectiveKeyPairName !== "ops");
        expect(notRestartedOnce.map((i) => i.id)).toEqual([]);
    });

    test("one operation alone sends at once; while another runs, their requests wait for each other and share a call", async () => {
        // A virtual clock: a refresh makes no sleep of its own, so any time that passes is the coalescing window's.
        const clock = steppingClock();
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: linuxInstances(4) }, { clock, coalesceWindowMs: 50 });
        const { id, outs } = await f.hooks.create(inputs("ops", ["i-run0000", "i-run0001"]));
        const other = await f.hooks.create(inputs("ops", ["i-run0002", "i-run0003"]));

        f.emulator.resetCalls();
        const alone = clock.elapsedMs();
        await f.hooks.read(id, outs);
        expect(clock.elapsedMs() - alone).toBe(0);
        expect(f.emulator.callCounts().DescribeInstances).toBe(1);

        f.emulator.resetCalls();
        const together = clock.elapsedMs();
        await Promise.all([f.hooks.read(id, outs), f.hooks.read(other.id, other.outs)]);
        expect(clock.elapsedMs() - together).toBeGreaterThan(0);
        expect(f.emulator.calls.filter((c) => c.action === "DescribeInstances").map((c) => c.instanceIds.length)).toEqual([4]);
    });

    test("under throttling the shared limiter keeps every attachment alive and throttles few calls", async () => {
        const fleet = linuxInstances(60);
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: fleet });
        for (const action of ["DescribeInstances", "DescribeKeyPairs", "AttachKeyPair", "RebootInstances"]) {
            f.emulator.faults.throttle({ action, ratePerSecond: 5 });
        }
        const groups = Array.from({ length: 30 }, (_, g) => fleet.slice(g * 2, g * 2 + 2).map((i) => i.id));
        // Staggered starts defeat coalescing, as creates spread over time by the engine would.
        const results = await Promise.all(
            groups.map(async (ids, g) => {
                await new Promise((r) => setTimeout(r, g * 15));
                return f.hooks.create(inputs("ops", ids));
            }),
        );

        expect(results).toHaveLength(30);
        expect(f.emulator.model.instances().every((i) => i.keyPairName === "ops" && i.rebootCount === 1)).toBe(true);
        const throttled = f.emulator.calls.filter((c) => c.code?.startsWith("Throttling")).length;
        expect(throttled / f.emulator.calls.length).toBeLessThan(0.25);
    });

    test("a batch whose every instance fails changes nothing and says so, without a partial state", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: linuxInstances(3) });
        f.emulator.faults.add({ action: "AttachKeyPair", code: "InvalidParameter", status: 400, times: Infinity });
        const error = await rejectionOf(f.hooks.create(inputs("ops", ["i-run0000", "i-run0001", "i-run0002"])));
        expect(error.constructor.name).toBe("Error");
        expect(error.message).toMatch(/i-run0000, i-run0001, i-run0002: InvalidParameter .*Nothing was changed/);
        expect(f.emulator.model.instances().every((i) => i.keyPairName === undefined)).toBe(true);
    });
});
