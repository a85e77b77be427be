/**
 * Faults that need a scenario rather than a burst: the world changing mid-operation, restarts that
 * never finish, answers slower than the client timeout, a reboot whose answer was lost.
 */
import { realRandom } from "../../provider/clock";
import { COALESCE_WINDOW_MS } from "../../provider/ecs/gateway";
import { PartialBindingError } from "../../provider/lifecycle";
import { Rig, allCallsAnswered, callSeen, expectStateMatches, inputs, settle, snapshot, startRig, steppingClock } from "./harness";

const TWO = { keyPairs: [{ name: "ops" }], instances: [{ id: "i-a" }, { id: "i-b" }] };

test("an instance deleted between validation and attach: partial state without it, the rest bound and restarted", async () => {
    const rig = await startRig({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-a" }, { id: "i-b" }, { id: "i-c" }] });
    try {
        rig.emulator.faults.add({ action: "AttachKeyPair", delayMs: 100 });
        const before = snapshot(rig.emulator);
        const running = settle(rig.hooks.create(inputs("ops", ["i-a", "i-b", "i-c"])));
        await callSeen(rig.emulator, (c) => c.action === "AttachKeyPair");
        rig.emulator.model.deleteInstance("i-b");
        const result = await running;

        expect(result.error).toBeInstanceOf(PartialBindingError);
        expect(result.error!.message).toMatch(/i-b: InvalidInstanceId.NotFound/);
        expect(result.outs!.instanceIds).toEqual(["i-a", "i-c"]);
        expect(result.outs!.restartedInstanceIds.sort()).toEqual(["i-a", "i-c"]);
        expectStateMatches(rig.emulator, before, result);
    } finally {
        await rig.close();
    }
});

test("an instance stuck in Starting past restart.timeoutSeconds: a timeout error naming it, at the timeout; partial state recorded", async () => {
    // Provider and emulator share a stepping clock: time moves only as the provider sleeps, and it
    // stands still from the moment the reboot was answered until the test has frozen i-b mid-reboot.
    let frozen = false;
    const holder: { rig?: Rig } = {};
    const rebootAnswered = () => holder.rig!.emulator.calls.some((c) => c.action === "RebootInstances" && c.status === 200);
    const clock = steppingClock(() => !frozen && holder.rig !== undefined && rebootAnswered());
    // Reboots take 40 s × 0.01 = 400 ms of that clock here.
    const rig = (holder.rig = await startRig(TWO, { clock, emulator: { clock, durations: { stoppingMs: 20_000, startingMs: 20_000 } } }));
    try {
        const timeoutSeconds = 0.8;
        const pollIntervalSeconds = 0.02;
        const before = snapshot(rig.emulator);
        const running = settle(rig.hooks.create(inputs("ops", ["i-a", "i-b"], { restart: { timeoutSeconds, pollIntervalSeconds } })));
        await callSeen(rig.emulator, (c) => c.action === "RebootInstances" && c.status === 200);
        const rebootedAt = clock.now();
        rig.emulator.model.setStatus("i-b", "Starting");
        frozen = true;
        const result = await running;
        const waitedMs = clock.now() - rebootedAt;

        expect(result.error).toBeInstanceOf(PartialBindingError);
        expect(result.error!.message).toMatch(/i-b: RestartTimeout not Running 0.8 s after its restart \(status Starting\)/);
        expect(result.error!.message).not.toMatch(/i-a:/);
        // Given up at the timeout: the last sleep is cut to the deadline; the poll after it and the
        // calls that record the outcome each add their coalescing window (virtual time, exact).
        expect(waitedMs).toBeGreaterThanOrEqual(timeoutSeconds * 1000);
        expect(waitedMs).toBeLessThanOrEqual(timeoutSeconds * 1000 + 4 * COALESCE_WINDOW_MS);
        expect(result.outs).toMatchObject({
            instanceIds: ["i-a", "i-b"],
            restartedInstanceIds: ["i-a"],
            pendingRestartInstanceIds: ["i-b"],
        });
        expectStateMatches(rig.emulator, before, result, { touched: ["i-b"] });
    } finally {
        await rig.close();
    }
});

test("RebootInstances refuses one instance (IncorrectInstanceStatus: it was stopped meanwhile): the other restarted, partial state", async () => {
    const rig = await startRig(TWO);
    try {
        rig.emulator.faults.add({ action: "RebootInstances", delayMs: 60 });
        const before = snapshot(rig.emulator);
        const running = settle(rig.hooks.create(inputs("ops", ["i-a", "i-b"])));
        await callSeen(rig.emulator, (c) => c.action === "RebootInstances");
        rig.emulator.model.stopInstance("i-b");
        const result = await running;

        expect(result.error).toBeInstanceOf(PartialBindingError);
        expect(result.error!.reasons).toEqual([expect.stringMatching(/^i-b: IncorrectInstanceStatus/)]);
        expect(result.outs).toMatchObject({
            instanceIds: ["i-a", "i-b"],
            restartedInstanceIds: ["i-a"],
            pendingRestartInstanceIds: ["i-b"],
        });
        expectStateMatches(rig.emulator, before, result, { touched: ["i-b"] });
    } finally {
        await rig.close();
    }
});

test("RebootInstances refused for the whole request (403 IncorrectInstanceStatus): bound, nothing restarted, all pending", async () => {
    const rig = await startRig(TWO);
    try {
        rig.emulator.faults.add({ action: "RebootInstances", code: "IncorrectInstanceStatus" });
        const before = snapshot(rig.emulator);
        const result = await settle(rig.hooks.create(inputs("ops", ["i-a", "i-b"])));

        expect(result.error).toBeInstanceOf(PartialBindingError);
        expect(result.error!.message).toMatch(/i-a, i-b: IncorrectInstanceStatus/);
        expect(result.outs).toMatchObject({
            instanceIds: ["i-a", "i-b"],
            restartedInstanceIds: [],
            pendingRestartInstanceIds: ["i-a", "i-b"],
        });
        expectStateMatches(rig.emulator, before, result);
    } finally {
        await rig.close();
    }
});

describe("answers slower than the client's read timeout (300 ms here; 30 s in production)", () => {
    const timeouts = { connectTimeoutMs: 300, readTimeoutMs: 300 };

    test.concurrent.each(["DescribeInstances", "DescribeKeyPairs", "AttachKeyPair"])(
        "%s: timed out, retried, create succeeds",
        async (action) => {
            const rig = await startRig(TWO, { timeouts });
            try {
                rig.emulator.faults.add({ action, delayMs: 450 });
                const before = snapshot(rig.emulator);
                const result = await settle(rig.hooks.create(inputs("ops", ["i-a", "i-b"])));
                expect(result.error).toBeUndefined();
                expect(rig.emulator.faults.list()).toEqual([]);
                // The late request is carried out after the retry; the state must hold anyway.
                await allCallsAnswered(rig.emulator);
                expectStateMatches(rig.emulator, before, result);
            } finally {
                await rig.close();
            }
        },
    );

    test("DetachKeyPair: timed out, retried, delete unbinds every instance", async () => {
        const rig = await startRig({ ...TWO, instances: TWO.instances.map((i) => ({ ...i, keyPairName: "ops" })) }, { timeouts });
        try {
            const { outs } = await rig.hooks.create(inputs("ops", ["i-a", "i-b"]));
            rig.emulator.faults.add({ action: "DetachKeyPair", delayMs: 450 });
            await rig.hooks.delete("kpa-x", outs);
            await allCallsAnswered(rig.emulator);
            expect(rig.emulator.model.instances().map((i) => i.keyPairName)).toEqual([undefined, undefined]);
        } finally {
            await rig.close();
        }
    });

    // The answer to a reboot comes after the client's read timeout. As in production (30 s timeout,
    // reboots of 10–60 s), the reboot is still under way when the client gives up: the gateway
    // watches the instances before resending, sees them rebooting, and does not reboot them again.
    // (A reboot that had already finished when the timeout fired cannot be told from one that never
    // happened: RebootInstances has no idempotency token. README, Reliability.)
    test("RebootInstances: timed out and retried, and no instance is rebooted twice", async () => {
        // Reboots of 800 ms against a 300 ms read timeout.
        const rig = await startRig(TWO, { timeouts, emulator: { timeScale: 0.1 } });
        try {
            rig.emulator.faults.add({ action: "RebootInstances", delayMs: 450 });
            const before = snapshot(rig.emulator);
            const result = await settle(
                rig.hooks.create(inputs("ops", ["i-a", "i-b"], { restart: { pollIntervalSeconds: 0.05, timeoutSeconds: 10 } })),
            );
            // The late reboot request is carried out after the client gave up on it.
            await allCallsAnswered(rig.emulator);
            expect(result.error).toBeUndefined();
            expectStateMatches(rig.emulator, before, result);
        } finally {
            await rig.close();
        }
    });
});

// The answer to a reboot is lost (connection reset after ECS carried it out). When the backoff
// before the retry is longer than the reboot itself, the describe-before-resend sees the instances
// Running again and would reboot them a second time; the gateway therefore looks before the backoff
// (README.md, fixed bug 2). Production: backoff up to 20 s, reboots of 10–60 s.
test("a reboot whose answer was lost after the reboot already finished is not sent again", async () => {
    // Reboot 80 ms; first retry backoff = random 0.99 × 200 ms ≈ 198 ms.
    const rig = await startRig(TWO, {
        retry: { baseDelayMs: 200, maxDelayMs: 1000, random: { fraction: () => 0.99, hex: (bytes) => realRandom.hex(bytes) } },
    });
    try {
        rig.emulator.faults.add({ action: "RebootInstances", resetMidResponse: true });
        const before = snapshot(rig.emulator);
        const result = await settle(rig.hooks.create(inputs("ops", ["i-a", "i-b"])));
        expect(result.error).toBeUndefined();
        expectStateMatches(rig.emulator, before, result);
    } finally {
        await rig.close();
    }
});
