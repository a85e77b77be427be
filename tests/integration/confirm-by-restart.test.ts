/**
 * In restart mode, an attach is confirmed by the restart that follows it (converge.ts,
 * confirmAfterRestart): RebootInstances comes right after AttachKeyPair, and the status poll that
 * sees an instance Running again also shows its key pair. Only what the restart did not show is
 * re-read; an instance that showed its key only after its restart is owed a restart again. The
 * real SDK over HTTP to the emulator; one stepping clock drives both, so every count is exact.
 */
import type { Seed } from "../../emulator";
import { PartialBindingError } from "../../provider/lifecycle";
import {
    FAST_RESTART,
    Fixture,
    FixtureOptions,
    SteppingClock,
    inputs,
    linuxInstances,
    rejectionOf,
    startFixture,
    steppingClock,
} from "./fixture";

const KEY = "ops";
/**
 * Status polls of one restart: a reboot takes 80 ms at TIME_SCALE and the polls come every 20 ms
 * (FAST_RESTART), so the fourth one sees the instances Running again.
 */
const POLLS_OF_A_RESTART = 4;
/** DescribeInstances names at most 100 instances. */
const callsFor = (n: number) => Math.ceil(n / 100);

let f: Fixture | undefined;
afterEach(async () => {
    await f?.close();
    f = undefined;
});

/** An emulator and a provider on one stepping clock: the reboots progress with the provider's polls. */
async function start(seed: Seed, options: FixtureOptions = {}): Promise<{ fixture: Fixture; clock: SteppingClock }> {
    const clock = steppingClock();
    const fixture = await startFixture(seed, { ...options, clock, emulator: { ...options.emulator, clock } });
    return { fixture, clock };
}

const actions = (fixture: Fixture) => fixture.emulator.calls.map((c) => c.action);
const describesNaming = (fixture: Fixture, from: number, to: number) =>
    fixture.emulator.calls.slice(from, to).filter((c) => c.action === "DescribeInstances");

describe("an attach confirmed by its restart", () => {
    test.each([1, 100, 1000])(
        "a create over %i Running instance(s) reboots right after AttachKeyPair, and reads ⌈N/100⌉ times fewer",
        async (n) => {
            const ids = linuxInstances(n).map((i) => i.id);
            ({ fixture: f } = await start({ keyPairs: [{ name: KEY }], instances: linuxInstances(n) }));
            const { outs } = await f.hooks.create(inputs(KEY, ids));

            const all = actions(f);
            // Between the attaches and the reboots, nothing: no confirming read.
            expect(all.slice(all.indexOf("AttachKeyPair"), all.indexOf("RebootInstances")).filter((a) => a !== "AttachKeyPair")).toEqual(
                [],
            );
            // The look-up before anything is sent, and the restart's polls: one confirming round (⌈N/100⌉ calls) fewer than before.
            expect(all.filter((a) => a === "DescribeInstances")).toHaveLength(callsFor(n) * (1 + POLLS_OF_A_RESTART));
            expect(outs).toMatchObject({
                instanceIds: ids,
                restartedInstanceIds: ids,
                pendingRestartInstanceIds: [],
                restartOwedInstanceIds: [],
            });
            const notBootedWithKey = ids.filter((id) => f!.emulator.model.instance(id)!.effectiveKeyPairName !== KEY);
            expect(notBootedWithKey).toEqual([]);
            expect(f.logs.filter((l) => /DescribeInstances|owed a restart/.test(l))).toEqual([]);
        },
        60_000,
    );

    test("DescribeInstances lagging longer than the restart: confirmed after it, bound, owed a restart, named in the log; the next update restarts them", async () => {
        // 13 s of lag (130 ms at TIME_SCALE), longer than a reboot (80 ms): the poll that sees the
        // instances back (by their StartTime, which shows at once) still shows them without the key,
        // and so does the first re-read after it; the second (20 ms later) shows it.
        let clock: SteppingClock;
        ({ fixture: f, clock } = await start(
            { keyPairs: [{ name: KEY }], instances: [{ id: "i-a" }, { id: "i-b" }], settings: { consistencyDelayMs: 13_000 } },
            { visibilityDelayMs: 20 },
        ));
        const { id, outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"]));

        const all = actions(f);
        const reboot = all.indexOf("RebootInstances");
        expect(all.slice(all.indexOf("AttachKeyPair") + 1, reboot)).toEqual([]);
        // Confirmed after the restart, by re-reads after its polls (not resent: the key showed by the second read).
        expect(describesNaming(f, reboot, all.length).length).toBeGreaterThan(1);
        expect(all.filter((a) => a === "AttachKeyPair")).toHaveLength(1);
        // The restart notes stay in ECS until the re-reads have decided (a run lost meanwhile leaves them): one untag, after the last read.
        expect(all.filter((a) => a === "UntagResources")).toHaveLength(1);
        expect(all.lastIndexOf("UntagResources")).toBeGreaterThan(all.lastIndexOf("DescribeInstances"));
        expect(outs).toMatchObject({
            instanceIds: ["i-a", "i-b"],
            restartedInstanceIds: [],
            pendingRestartInstanceIds: ["i-a", "i-b"],
            restartOwedInstanceIds: ["i-a", "i-b"],
        });
        expect(f.logs.filter((l) => l.includes("restarted before DescribeInstances showed"))).toEqual([
            expect.stringMatching(/i-a, i-b restarted before DescribeInstances showed key pair "ops" on them.*run `pulumi up` again/),
        ]);
        // Nothing lost: ECS holds the binding, and no change-not-visible notice was needed.
        for (const instanceId of ["i-a", "i-b"])
            expect(f.emulator.model.instance(instanceId)).toMatchObject({ keyPairName: KEY, rebootCount: 1 });
        expect(f.logs.filter((l) => l.includes("after several re-reads"))).toEqual([]);

        // Later (the lag has passed), the next up sees the owed restarts and carries them out.
        await clock.sleep(1_000);
        const news = inputs(KEY, ["i-a", "i-b"]);
        expect((await f.hooks.diff(id, outs, news)).changes).toBe(true);
        f.emulator.resetCalls();
        const updated = await f.hooks.update(id, outs, news);
        expect(updated.outs).toMatchObject({
            instanceIds: ["i-a", "i-b"],
            restartedInstanceIds: ["i-a", "i-b"],
            pendingRestartInstanceIds: [],
            restartOwedInstanceIds: [],
        });
        expect(actions(f).filter((a) => a === "AttachKeyPair")).toEqual([]);
        for (const instanceId of ["i-a", "i-b"]) expect(f.emulator.model.instance(instanceId)).toMatchObject({ rebootCount: 2 });
    });
});

describe("instances this run does not restart keep the confirmation before the restart", () => {
    // 2 s of lag (20 ms at TIME_SCALE): within the provider's re-read window (5 + 10 + 20 ms).
    const LAGGING = { consistencyDelayMs: 2_000 };

    test("a Stopped instance is confirmed before the reboot of the Running one, which its restart confirms", async () => {
        ({ fixture: f } = await start({
            keyPairs: [{ name: KEY }],
            instances: [{ id: "i-run" }, { id: "i-stop", status: "Stopped" }],
            settings: LAGGING,
        }));
        const { outs } = await f.hooks.create(inputs(KEY, ["i-run", "i-stop"]));

        const all = actions(f);
        const confirming = describesNaming(f, all.indexOf("AttachKeyPair"), all.indexOf("RebootInstances")).map((c) => c.instanceIds);
        expect(confirming.length).toBeGreaterThan(1);
        expect(confirming.flat().filter((instanceId) => instanceId !== "i-stop")).toEqual([]);
        expect(outs).toMatchObject({
            instanceIds: ["i-run", "i-stop"],
            restartedInstanceIds: ["i-run"],
            pendingRestartInstanceIds: ["i-stop"],
            restartOwedInstanceIds: [],
        });
    });

    test("restart.enabled=false: every instance is confirmed before the create returns", async () => {
        ({ fixture: f } = await start({ keyPairs: [{ name: KEY }], instances: [{ id: "i-a" }, { id: "i-b" }], settings: LAGGING }));
        const { outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"], { restart: { ...FAST_RESTART, enabled: false } }));

        const all = actions(f);
        expect(all).not.toContain("RebootInstances");
        const confirming = describesNaming(f, all.indexOf("AttachKeyPair"), all.length);
        expect(confirming.length).toBeGreaterThan(1);
        expect(confirming[confirming.length - 1].instanceIds).toEqual(["i-a", "i-b"]);
        expect(outs).toMatchObject({ instanceIds: ["i-a", "i-b"], restartedInstanceIds: [], pendingRestartInstanceIds: ["i-a", "i-b"] });
    });

    test("a refused reboot: the attach is confirmed after it, and the instance stays bound and owed", async () => {
        ({ fixture: f } = await start({ keyPairs: [{ name: KEY }], instances: [{ id: "i-a" }], settings: LAGGING }));
        f.emulator.faults.add({ action: "RebootInstances", code: "Forbidden.RAM", status: 403, times: Infinity });
        const error = await rejectionOf(f.hooks.create(inputs(KEY, ["i-a"])));

        expect(error).toBeInstanceOf(PartialBindingError);
        const all = actions(f);
        // Nothing read between the attach and the reboot; after the refusal, the confirmation (no status polls: nothing rebooted).
        expect(all.slice(all.indexOf("AttachKeyPair") + 1, all.indexOf("RebootInstances"))).toEqual([]);
        expect(describesNaming(f, all.lastIndexOf("RebootInstances"), all.length).map((c) => c.instanceIds)).toContainEqual(["i-a"]);
        expect(error.properties).toMatchObject({
            instanceIds: ["i-a"],
            pendingRestartInstanceIds: ["i-a"],
            restartOwedInstanceIds: ["i-a"],
        });
        expect(f.logs.filter((l) => /after several re-reads|restarted before DescribeInstances/.test(l))).toEqual([]);
    });
});
