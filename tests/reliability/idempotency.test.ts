/**
 * Idempotency: a hook that failed at any point, run again with the same inputs as the engine would
 * (a create that recorded nothing: create again, new id; a create or update that recorded a
 * partial state: update with those properties as olds — the engine always updates a resource with
 * init errors; a failed delete: delete again), reaches the state of the fault-free run, and no
 * instance is restarted more than once for one binding change unless its restart was cut off.
 */
import type { FaultRule } from "../../emulator";
import { PartialBindingError } from "../../provider/lifecycle";
import type { KeyPairAttachmentOutputs } from "../../provider/types";
import { Rig, eventually, inputs, linuxInstances, settle, startRig } from "./harness";

// 60 running instances (two AttachKeyPair batches: 50 + 10) and one stopped.
const FLEET = [...linuxInstances(60, "i-r"), { id: "i-stopped", status: "Stopped" as const }];
const IDS = FLEET.map((i) => i.id);
const SEED = { keyPairs: [{ name: "ops" }, { name: "ops-next" }], instances: FLEET };
const REFUSED = { code: "Forbidden.RAM", status: 403 };

type Hook = "create" | "update" | "delete";

interface FailurePoint {
    hook: Hook;
    fault: FaultRule;
    /** What the failed run leaves: nothing changed (plain error) or a partial state to record. */
    first: "nothing changed" | "partial";
    /** The failure cut a restart short: those instances may be restarted once more. */
    cutOff?: boolean;
}

const POINTS: [string, FailurePoint][] = [
    [
        "create: validation (DescribeInstances refused)",
        { hook: "create", fault: { action: "DescribeInstances", ...REFUSED }, first: "nothing changed" },
    ],
    [
        "create: key pair check (DescribeKeyPairs refused)",
        { hook: "create", fault: { action: "DescribeKeyPairs", ...REFUSED }, first: "nothing changed" },
    ],
    ["create: one AttachKeyPair batch refused", { hook: "create", fault: { action: "AttachKeyPair", ...REFUSED }, first: "partial" }],
    [
        "create: one instance refused inside AttachKeyPair",
        {
            hook: "create",
            fault: { action: "AttachKeyPair", instanceFailures: [{ instanceId: "i-r0030", code: "IncorrectInstanceStatus" }] },
            first: "partial",
        },
    ],
    [
        "create: during restart (status polls refused after the reboot)",
        { hook: "create", fault: { action: "DescribeInstances", afterCalls: 1, times: Infinity, ...REFUSED }, first: "partial" },
    ],
    [
        "update (key change): one instance refused inside AttachKeyPair",
        {
            hook: "update",
            fault: { action: "AttachKeyPair", instanceFailures: [{ instanceId: "i-r0030", code: "IncorrectInstanceStatus" }] },
            first: "partial",
        },
    ],
    [
        "delete: one DetachKeyPair batch refused",
        { hook: "delete", fault: { action: "DetachKeyPair", ...REFUSED }, first: "nothing changed" },
    ],
    [
        "delete: one instance refused inside DetachKeyPair",
        {
            hook: "delete",
            fault: { action: "DetachKeyPair", instanceFailures: [{ instanceId: "i-r0030", code: "IncorrectInstanceStatus" }] },
            first: "nothing changed",
        },
    ],
];

// After attach, before the key took effect: the re-run (an update with the same key and set) must
// still restart the bound-but-never-restarted instances (README.md, fixed bug 1: owed restarts).
const FAILING_POINTS: [string, FailurePoint][] = [
    [
        "create: after attach (RebootInstances refused)",
        { hook: "create", fault: { action: "RebootInstances", ...REFUSED }, first: "partial" },
    ],
    [
        "create: after attach (every RebootInstances answer lost)",
        { hook: "create", fault: { action: "RebootInstances", dropConnection: true, times: Infinity }, first: "partial" },
    ],
    [
        "update (key change): after attach (RebootInstances refused)",
        { hook: "update", fault: { action: "RebootInstances", ...REFUSED }, first: "partial" },
    ],
];

const CREATE_INPUTS = inputs("ops", IDS);
const UPDATE_INPUTS = inputs("ops-next", IDS);

type EndState = Record<string, { keyPairName?: string; effectiveKeyPairName?: string; status: string; rebootCount: number }>;

async function endState(rig: Rig): Promise<EndState> {
    // A restart cut short may still be under way: let every instance settle.
    await eventually(
        () => !rig.emulator.model.instances().some((x) => x.status === "Stopping" || x.status === "Starting"),
        "every instance left Stopping and Starting",
    );
    return Object.fromEntries(
        rig.emulator.model
            .instances()
            .map((i) => [
                i.id,
                { keyPairName: i.keyPairName, effectiveKeyPairName: i.effectiveKeyPairName, status: i.status, rebootCount: i.rebootCount },
            ]),
    );
}

/** Runs `hook` once with `fault` armed (or none), then again as the engine would, until it succeeds. */
async function runWithRetry(point: FailurePoint | undefined, hook: Hook): Promise<EndState> {
    const rig = await startRig(SEED);
    try {
        const { hooks, emulator } = rig;
        // The state an update or delete starts from (unused by a create).
        let recorded = {} as KeyPairAttachmentOutputs;
        let id = "kpa-none";
        if (hook !== "create") {
            const created = await hooks.create(CREATE_INPUTS);
            ({ id, outs: recorded } = created);
        }
        if (point) emulator.faults.add(point.fault);
        const attempt = () =>
            hook === "create"
                ? settle(hooks.create(CREATE_INPUTS))
                : hook === "update"
                  ? settle(hooks.update(id, recorded, UPDATE_INPUTS))
                  : settle(hooks.delete(id, recorded).then(() => ({ outs: {} })));
        const first = await attempt();
        if (point) {
            expect(first.error).toBeDefined();
            if (point.first === "partial") expect(first.error).toBeInstanceOf(PartialBindingError);
            else expect(first.error).not.toBeInstanceOf(PartialBindingError);
            emulator.faults.clear();
            let again;
            if (first.error instanceof PartialBindingError) {
                again = await settle(hooks.update(first.error.id, first.outs!, hook === "update" ? UPDATE_INPUTS : CREATE_INPUTS));
            } else {
                again = await attempt();
            }
            expect(again.error).toBeUndefined();
        } else {
            expect(first.error).toBeUndefined();
        }
        return await endState(rig);
    } finally {
        await rig.close();
    }
}

const faultFree = new Map<Hook, Promise<EndState>>();
function reference(hook: Hook): Promise<EndState> {
    if (!faultFree.has(hook)) faultFree.set(hook, runWithRetry(undefined, hook));
    return faultFree.get(hook)!;
}

async function expectSameEndState(point: FailurePoint): Promise<void> {
    const [expected, actual] = await Promise.all([reference(point.hook), runWithRetry(point, point.hook)]);
    const differences = Object.keys(expected).flatMap((id) => {
        const e = expected[id];
        const a = actual[id];
        const extraReboots = a.rebootCount - e.rebootCount;
        const sameBinding = a.keyPairName === e.keyPairName && a.effectiveKeyPairName === e.effectiveKeyPairName && a.status === e.status;
        const rebootsOk = extraReboots === 0 || (point.cutOff === true && extraReboots === 1);
        return sameBinding && rebootsOk ? [] : [`${id}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`];
    });
    expect(differences).toEqual([]);
}

describe("a hook that failed, run again with the same inputs, reaches the fault-free end state", () => {
    test.concurrent.each(POINTS)("%s", async (_name, point) => expectSameEndState(point));
    test.each(FAILING_POINTS)("%s", async (_name, point) => expectSameEndState(point));
});

describe("a key change that failed on some instances (ops → ops-next, i-b refused)", () => {
    async function partialKeyChange() {
        const rig = await startRig({ keyPairs: [{ name: "ops" }, { name: "ops-next" }], instances: [{ id: "i-a" }, { id: "i-b" }] });
        const { id, outs } = await rig.hooks.create(inputs("ops", ["i-a", "i-b"]));
        rig.emulator.faults.add({ action: "AttachKeyPair", instanceFailures: [{ instanceId: "i-b", code: "IncorrectInstanceStatus" }] });
        const first = await settle(rig.hooks.update(id, outs, inputs("ops-next", ["i-a", "i-b"])));
        expect(first.error).toBeInstanceOf(PartialBindingError);
        rig.emulator.faults.clear();
        return { rig, id, partial: first.outs! };
    }

    // The partial properties say keyPairName "ops-next" and instanceIds ["i-a"]: i-b still holds this
    // resource's old key "ops" and must stay tracked (leftoverKeyPairs) so that a destroy releases it
    // (README.md, fixed bug 3).
    test("then destroy: no instance keeps a key this resource bound", async () => {
        const { rig, id, partial } = await partialKeyChange();
        try {
            await rig.hooks.delete(id, partial);
            expect(rig.emulator.model.instances().map((i) => [i.id, i.keyPairName])).toEqual([
                ["i-a", undefined],
                ["i-b", undefined],
            ]);
        } finally {
            await rig.close();
        }
    });

    // The re-run must not report i-b's "ops" as someone else's key it replaced: it was this
    // resource's own previous key (README.md, fixed bug 4).
    test("then run again: reaches the fault-free state and reports no replaced key pair", async () => {
        const { rig, id, partial } = await partialKeyChange();
        try {
            const again = await settle(rig.hooks.update(id, partial, inputs("ops-next", ["i-a", "i-b"])));
            expect(rig.emulator.model.instances().map((i) => [i.id, i.keyPairName, i.effectiveKeyPairName, i.rebootCount])).toEqual([
                ["i-a", "ops-next", "ops-next", 2],
                ["i-b", "ops-next", "ops-next", 2],
            ]);
            expect(again.outs!.replacedKeyPairs).toEqual({});
        } finally {
            await rig.close();
        }
    });
});
