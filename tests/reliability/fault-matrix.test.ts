/**
 * Fault matrix: every fault the emulator injects, on every action the provider uses, through
 * create → update → delete. Each case ends with the emulator holding exactly what the hook
 * returned (expectStateMatches).
 */
import type { FaultRule } from "../../emulator";
import { PartialBindingError } from "../../provider/lifecycle";
import { Rig, expectStateMatches, inputs, settle, snapshot, startRig } from "./harness";

const ACTIONS = ["DescribeInstances", "DescribeKeyPairs", "AttachKeyPair", "DetachKeyPair", "RebootInstances"] as const;

const SEED = {
    keyPairs: [{ name: "ops" }],
    instances: [{ id: "i-a" }, { id: "i-b" }, { id: "i-c" }, { id: "i-s", status: "Stopped" as const }],
};

/** A burst that the provider must ride out: `times` calls of `action` fail, then ECS answers. */
type Burst = Omit<FaultRule, "action">;

const BURSTS: [string, Burst][] = [
    ["Throttling (400)", { code: "Throttling", status: 400, times: 2 }],
    ["Throttling.User (400)", { code: "Throttling.User", status: 400, times: 2 }],
    ["Throttling.Api (400)", { code: "Throttling.Api", status: 400, times: 2 }],
    ["InternalError (500)", { code: "InternalError", status: 500, times: 2 }],
    ["ServiceUnavailable (503)", { code: "ServiceUnavailable", status: 503, times: 2 }],
    ["a connection reset mid-response", { resetMidResponse: true, times: 2 }],
    ["a dropped connection", { dropConnection: true, times: 2 }],
];

const CASES: [string, string, Burst][] = [
    ...ACTIONS.flatMap((action) => BURSTS.map(([name, burst]) => [action, name, burst] as [string, string, Burst])),
    ["RebootInstances", "InvalidOperation.Conflict (409)", { code: "InvalidOperation.Conflict", times: 2 }],
    ["AttachKeyPair", "InvalidOperation.Conflict (409)", { code: "InvalidOperation.Conflict", times: 2 }],
    ["DetachKeyPair", "InvalidOperation.Conflict (409)", { code: "InvalidOperation.Conflict", times: 2 }],
];

/** Arms the burst for one hook and returns how many calls it hit once the hook is done. */
function arm(rig: Rig, action: string, burst: Burst): () => number {
    rig.emulator.faults.clear();
    const id = rig.emulator.faults.add({ ...burst, action });
    const times = burst.times ?? 1;
    return () => times - (rig.emulator.faults.list().find((r) => r.id === id)?.remaining ?? 0);
}

describe.each(CASES)("%s answering with %s", (action, _name, burst) => {
    test.concurrent("create, update and delete succeed; the emulator holds what they returned; nothing rebooted twice", async () => {
        const rig = await startRig(SEED);
        try {
            let hits = 0;
            let fired = arm(rig, action, burst);
            let before = snapshot(rig.emulator);
            const created = await settle(rig.hooks.create(inputs("ops", ["i-a", "i-b", "i-s"])));
            hits += fired();
            expect(created.error).toBeUndefined();
            expectStateMatches(rig.emulator, before, created);
            expect(created.outs!.restartedInstanceIds.sort()).toEqual(["i-a", "i-b"]);
            expect(created.outs!.pendingRestartInstanceIds).toEqual(["i-s"]);

            fired = arm(rig, action, burst);
            before = snapshot(rig.emulator);
            const updated = await settle(rig.hooks.update("kpa-x", created.outs!, inputs("ops", ["i-a", "i-c", "i-s"])));
            hits += fired();
            expect(updated.error).toBeUndefined();
            expectStateMatches(rig.emulator, before, updated);
            expect(updated.outs!.instanceIds).toEqual(["i-a", "i-c", "i-s"]);
            expect(updated.outs!.restartedInstanceIds).toEqual(["i-c"]);
            expect(rig.emulator.model.instance("i-b")!.keyPairName).toBeUndefined();

            fired = arm(rig, action, burst);
            await rig.hooks.delete("kpa-x", updated.outs!);
            hits += fired();
            expect(rig.emulator.model.instances().filter((i) => i.keyPairName !== undefined)).toEqual([]);
            expect(rig.emulator.model.instances().map((i) => [i.id, i.rebootCount])).toEqual([
                ["i-a", 1],
                ["i-b", 1],
                ["i-c", 1],
                ["i-s", 0],
            ]);
            // The fault really was in the way.
            expect(hits).toBeGreaterThan(0);
        } finally {
            await rig.close();
        }
    });
});

test.concurrent("per-action rate throttling (2 calls/s for every action): create, update and delete succeed", async () => {
    const rig = await startRig(SEED);
    try {
        rig.emulator.faults.throttle({ ratePerSecond: 2 });
        let before = snapshot(rig.emulator);
        const created = await settle(rig.hooks.create(inputs("ops", ["i-a", "i-b", "i-s"])));
        expect(created.error).toBeUndefined();
        expectStateMatches(rig.emulator, before, created);
        before = snapshot(rig.emulator);
        const updated = await settle(rig.hooks.update("kpa-x", created.outs!, inputs("ops", ["i-a", "i-c", "i-s"])));
        expect(updated.error).toBeUndefined();
        expectStateMatches(rig.emulator, before, updated);
        await rig.hooks.delete("kpa-x", updated.outs!);
        expect(rig.emulator.model.instances().filter((i) => i.keyPairName !== undefined)).toEqual([]);
        expect(rig.emulator.faults.throttledCount()).toBeGreaterThan(0);
    } finally {
        await rig.close();
    }
});

test.concurrent("a per-instance failure in the middle of a 120-instance attach: partial state with exactly 119 bound", async () => {
    const fleet = Array.from({ length: 120 }, (_, i) => ({ id: `i-f${String(i).padStart(3, "0")}` }));
    const rig = await startRig({ keyPairs: [{ name: "ops" }], instances: fleet });
    try {
        rig.emulator.faults.add({
            action: "AttachKeyPair",
            times: Infinity,
            instanceFailures: [{ instanceId: "i-f060", code: "IncorrectInstanceStatus" }],
        });
        const before = snapshot(rig.emulator);
        const result = await settle(
            rig.hooks.create(
                inputs(
                    "ops",
                    fleet.map((i) => i.id),
                ),
            ),
        );

        expect(result.error).toBeInstanceOf(PartialBindingError);
        expect(result.error!.reasons).toEqual([expect.stringMatching(/^i-f060: IncorrectInstanceStatus/)]);
        expect(result.outs!.instanceIds).toHaveLength(119);
        expect(result.outs!.instanceIds).not.toContain("i-f060");
        expect(result.outs!.restartedInstanceIds).toHaveLength(119);
        expectStateMatches(rig.emulator, before, result);
    } finally {
        await rig.close();
    }
});
