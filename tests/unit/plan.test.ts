import { InstanceFacts } from "../../provider/ecs/instance";
import {
    chunk,
    difference,
    findIneligibleInstances,
    planBind,
    planRestart,
    planUnbind,
    sameInstanceSet,
    transitionalInstanceIds,
} from "../../provider/plan";

function facts(...instances: Partial<InstanceFacts>[]): Map<string, InstanceFacts> {
    return new Map(
        instances.map((i) => [
            i.instanceId!,
            { status: "Running", osType: "linux", ioOptimized: true, lockedForSecurity: false, ...i } as InstanceFacts,
        ]),
    );
}

describe("findIneligibleInstances", () => {
    const known = facts(
        { instanceId: "i-linux" },
        { instanceId: "i-win", osType: "windows" },
        { instanceId: "i-gen1", ioOptimized: false },
        { instanceId: "i-locked", lockedForSecurity: true },
    );

    test.each([
        ["i-linux", undefined],
        ["i-win", "DependencyViolation.WindowsInstance"],
        ["i-gen1", "DependencyViolation.IoOptimize"],
        ["i-locked", "InstanceLockedForSecurity"],
        ["i-gone", "InvalidInstanceId.NotFound"],
    ])("%s → %s", (id, code) => {
        const failures = findIneligibleInstances([id], known, "cn-hangzhou");
        expect(failures[0]?.code).toBe(code);
    });

    test("names every ineligible instance, with the region for missing ones", () => {
        const failures = findIneligibleInstances(["i-linux", "i-win", "i-gone"], known, "cn-beijing");
        expect(failures.map((f) => f.instanceId)).toEqual(["i-win", "i-gone"]);
        expect(failures[1].message).toMatch(/cn-beijing/);
    });
});

describe("planBind", () => {
    const current = facts(
        { instanceId: "i-a", keyPairName: "ops" },
        { instanceId: "i-b" },
        { instanceId: "i-c", keyPairName: "other" },
        { instanceId: "i-d", keyPairName: "old" },
    );

    test("attaches only where the key is missing and reports the key pairs it replaces", () => {
        const plan = planBind("ops", ["i-a", "i-b", "i-c"], current);
        expect(plan.attach).toEqual(["i-b", "i-c"]);
        expect(plan.alreadyBound).toEqual(["i-a"]);
        expect(plan.replaced).toEqual({ "i-c": "other" });
    });

    test("a key change does not report the resource's own previous key as replaced", () => {
        const plan = planBind("ops", ["i-c", "i-d"], current, new Set(["old"]));
        expect(plan.attach).toEqual(["i-c", "i-d"]);
        expect(plan.replaced).toEqual({ "i-c": "other" });
    });
});

describe("planUnbind", () => {
    test("detaches only instances holding this key; never another key", () => {
        const plan = planUnbind(
            new Set(["ops"]),
            ["i-a", "i-b", "i-c", "i-gone"],
            facts({ instanceId: "i-a", keyPairName: "ops" }, { instanceId: "i-b", keyPairName: "other" }, { instanceId: "i-c" }),
        );
        expect(plan).toEqual({ detach: { ops: ["i-a"] } });
    });

    test("groups instances by which of the resource's own keys they still hold", () => {
        const plan = planUnbind(
            new Set(["ops", "ops-old"]),
            ["i-a", "i-b", "i-c"],
            facts(
                { instanceId: "i-a", keyPairName: "ops" },
                { instanceId: "i-b", keyPairName: "ops-old" },
                { instanceId: "i-c", keyPairName: "ops" },
            ),
        );
        expect(plan.detach).toEqual({ ops: ["i-a", "i-c"], "ops-old": ["i-b"] });
    });
});

describe("planRestart", () => {
    const states = facts({ instanceId: "i-run" }, { instanceId: "i-stop", status: "Stopped" });

    test("restarts the running ones and never starts a stopped one", () => {
        expect(planRestart(["i-run", "i-stop"], states, true)).toEqual({ restart: ["i-run"], pending: ["i-stop"] });
    });

    test("with restarts disabled everything is pending", () => {
        expect(planRestart(["i-run", "i-stop"], states, false)).toEqual({ restart: [], pending: ["i-run", "i-stop"] });
    });
});

describe("helpers", () => {
    test.each([
        [["a", "b"], ["b", "a"], true],
        [["a", "b"], ["a"], false],
        [["a", "a"], ["a"], true],
        [[], [], true],
    ])("sameInstanceSet(%j, %j) = %s", (a, b, expected) => {
        expect(sameInstanceSet(a, b)).toBe(expected);
    });

    test("difference keeps order", () => {
        expect(difference(["c", "a", "b"], ["a"])).toEqual(["c", "b"]);
    });

    test("chunk respects the batch size", () => {
        expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
        expect(
            chunk(
                Array.from({ length: 120 }, (_, i) => i),
                50,
            ).map((c) => c.length),
        ).toEqual([50, 50, 20]);
    });

    test("transitionalInstanceIds", () => {
        const states = facts({ instanceId: "i-1", status: "Starting" }, { instanceId: "i-2" }, { instanceId: "i-3", status: "Stopping" });
        expect(transitionalInstanceIds(["i-1", "i-2", "i-3"], states)).toEqual(["i-1", "i-3"]);
    });
});
