/** create: validate every instance first, bind in batches, restart what was Running, flag the rest. */
import { FileRestartJournal } from "../../provider/journal";
import { PartialBindingError } from "../../provider/lifecycle";
import { FAST_RESTART, Fixture, inputs, linuxInstances, mutatingCalls, startFixture, rejectionOf } from "./fixture";

describe("create", () => {
    let f: Fixture;
    afterEach(async () => f?.close());

    test("binds every instance, restarts each running one once, never starts a stopped one", async () => {
        f = await startFixture({
            keyPairs: [{ name: "ops" }],
            instances: [{ id: "i-run1" }, { id: "i-run2" }, { id: "i-stop1", status: "Stopped" }],
        });
        const { id, outs } = await f.hooks.create({ ...inputs("ops", ["i-run1", "i-run2", "i-stop1"]), restart: undefined });

        expect(id).toMatch(/^kpa-[0-9a-f]{16}$/);
        expect(outs.instanceIds).toEqual(["i-run1", "i-run2", "i-stop1"]);
        expect(outs.restartedInstanceIds.sort()).toEqual(["i-run1", "i-run2"]);
        expect(outs.pendingRestartInstanceIds).toEqual(["i-stop1"]);
        expect(outs.passwordResetRequiredInstanceIds).toEqual([]);
        expect(outs.replacedKeyPairs).toEqual({});
        // The dynamic-provider host cannot encode undefined values.
        expect(Object.entries(outs).filter(([, v]) => v === undefined)).toEqual([]);
        const model = f.emulator.model;
        for (const i of ["i-run1", "i-run2"]) {
            expect(model.instance(i)).toMatchObject({
                keyPairName: "ops",
                effectiveKeyPairName: "ops",
                status: "Running",
                rebootCount: 1,
                forcedRebootCount: 0,
            });
        }
        expect(model.instance("i-stop1")).toMatchObject({ keyPairName: "ops", status: "Stopped", startCount: 0, rebootCount: 0 });
        expect(f.logs.join("\n")).toMatch(
            /3 instance\(s\) hold key pair "ops".*restarted: .*i-run1.*change takes effect at next start: i-stop1/,
        );
    });

    test("batches to the API limits: 50 per AttachKeyPair, 100 per RebootInstances and DescribeInstances", async () => {
        const fleet = linuxInstances(230);
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: fleet });
        const { outs } = await f.hooks.create(
            inputs(
                "ops",
                fleet.map((i) => i.id),
            ),
        );

        expect(outs.instanceIds).toHaveLength(230);
        expect(outs.restartedInstanceIds).toHaveLength(230);
        const sizes = (action: string) => f.emulator.calls.filter((c) => c.action === action).map((c) => c.instanceIds.length);
        expect(sizes("AttachKeyPair").sort((a, b) => b - a)).toEqual([50, 50, 50, 50, 30]);
        expect(sizes("RebootInstances").sort((a, b) => b - a)).toEqual([100, 100, 30]);
        expect(Math.max(...sizes("DescribeInstances"))).toBeLessThanOrEqual(100);
        expect(f.emulator.model.instances().every((i) => i.rebootCount === 1 && i.effectiveKeyPairName === "ops")).toBe(true);
    });

    test("an ineligible instance fails the whole create before anything changes, naming each and why", async () => {
        f = await startFixture({
            keyPairs: [{ name: "ops" }],
            instances: [
                { id: "i-ok" },
                { id: "i-win", osType: "windows" },
                { id: "i-gen1", ioOptimized: false },
                { id: "i-far", region: "cn-beijing" },
            ],
        });
        const error = await rejectionOf(f.hooks.create(inputs("ops", ["i-ok", "i-win", "i-gen1", "i-far", "i-gone"])));

        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(PartialBindingError);
        expect(error.message).toMatch(/i-win: DependencyViolation.WindowsInstance .*Windows/);
        expect(error.message).toMatch(/i-gen1: DependencyViolation.IoOptimize .*not I\/O optimized/);
        expect(error.message).toMatch(/i-far, i-gone: InvalidInstanceId.NotFound does not exist in region cn-hangzhou/);
        expect(error.message).toMatch(/Nothing was changed/);
        expect(error.message).not.toMatch(/i-ok/);
        expect(mutatingCalls(f.emulator)).toEqual([]);
        expect(f.emulator.model.instance("i-ok")).toMatchObject({ keyPairName: undefined, rebootCount: 0 });
    });

    test("a missing key pair fails naming it, nothing changed", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-ok" }] });
        await expect(f.hooks.create(inputs("nope-key", ["i-ok"]))).rejects.toThrow(
            /Key pair "nope-key" does not exist in region cn-hangzhou\. Nothing was changed/,
        );
        expect(mutatingCalls(f.emulator)).toEqual([]);
    });

    test("is idempotent: an instance that already holds the key is neither attached nor restarted", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-has", keyPairName: "ops" }, { id: "i-new" }] });
        const { outs } = await f.hooks.create(inputs("ops", ["i-has", "i-new"]));

        expect(outs.instanceIds).toEqual(["i-has", "i-new"]);
        expect(outs.restartedInstanceIds).toEqual(["i-new"]);
        expect(f.emulator.calls.filter((c) => c.action === "AttachKeyPair").flatMap((c) => c.instanceIds)).toEqual(["i-new"]);
        expect(f.emulator.model.instance("i-has")!.rebootCount).toBe(0);
    });

    test("reports the key pair it replaced", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }, { name: "legacy" }], instances: [{ id: "i-old", keyPairName: "legacy" }] });
        const { outs } = await f.hooks.create(inputs("ops", ["i-old"]));
        expect(outs.replacedKeyPairs).toEqual({ "i-old": "legacy" });
        expect(f.emulator.model.instance("i-old")).toMatchObject({ keyPairName: "ops", effectiveKeyPairName: "ops" });
    });

    test("restart.force reboots forcibly; restart.enabled=false restarts nothing and lists all as pending", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-a" }, { id: "i-b" }] });
        await f.hooks.create(inputs("ops", ["i-a"], { restart: { ...FAST_RESTART, force: true } }));
        expect(f.emulator.model.instance("i-a")).toMatchObject({ rebootCount: 1, forcedRebootCount: 1 });
        expect(f.emulator.calls.find((c) => c.action === "RebootInstances")!.params.ForceReboot).toBe("true");

        const { outs } = await f.hooks.create(inputs("ops", ["i-b"], { restart: { enabled: false } }));
        expect(outs.restartedInstanceIds).toEqual([]);
        expect(outs.pendingRestartInstanceIds).toEqual(["i-b"]);
        expect(f.emulator.model.instance("i-b")).toMatchObject({ keyPairName: "ops", effectiveKeyPairName: undefined, rebootCount: 0 });
    });

    test("a rolling restart never has more than batchSize instances restarting at once", async () => {
        const fleet = linuxInstances(7);
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: fleet });
        const { outs } = await f.hooks.create(
            inputs(
                "ops",
                fleet.map((i) => i.id),
                { restart: { ...FAST_RESTART, batchSize: 3 } },
            ),
        );

        expect(outs.restartedInstanceIds).toHaveLength(7);
        const reboots = f.emulator.calls.filter((c) => c.action === "RebootInstances");
        expect(reboots.map((c) => c.instanceIds.length)).toEqual([3, 3, 1]);
        // Each wave starts only after the previous wave is Running again (80 ms per reboot here).
        for (let w = 1; w < reboots.length; w++) expect(reboots[w].at - reboots[w - 1].at).toBeGreaterThanOrEqual(80);
    });

    test("waits out a transitional state before binding", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-booting", status: "Stopped" }] });
        f.emulator.model.startInstance("i-booting");
        expect(f.emulator.model.instance("i-booting")!.status).toBe("Starting");
        const { outs } = await f.hooks.create(inputs("ops", ["i-booting"]));

        expect(outs.restartedInstanceIds).toEqual(["i-booting"]);
        expect(f.emulator.calls.filter((c) => c.action === "AttachKeyPair" && c.status !== 200)).toEqual([]);
        expect(f.emulator.model.instance("i-booting")).toMatchObject({
            keyPairName: "ops",
            effectiveKeyPairName: "ops",
            status: "Running",
        });
    });

    test("a per-instance failure after others were bound throws the partial state for the engine to record", async () => {
        const fleet = linuxInstances(120);
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: fleet });
        f.emulator.faults.add({
            action: "AttachKeyPair",
            times: Infinity,
            instanceFailures: [
                {
                    instanceId: "i-run0077",
                    code: "IncorrectInstanceStatus",
                    message: "The current status of the resource does not support this operation.",
                },
            ],
        });
        const props = inputs(
            "ops",
            fleet.map((i) => i.id),
        );
        const error = await rejectionOf(f.hooks.create(props));

        expect(error).toBeInstanceOf(PartialBindingError);
        expect(error.message).toMatch(/1 instance\(s\) failed — i-run0077: IncorrectInstanceStatus/);
        expect(error.message).toMatch(/request id [0-9A-F-]{36}/);
        expect(error.id).toMatch(/^kpa-/);
        expect(error.reasons).toEqual([expect.stringMatching(/^i-run0077: IncorrectInstanceStatus/)]);
        expect(error.properties.__provider).toBe(props.__provider);
        expect(error.properties.instanceIds).toHaveLength(119);
        expect(error.properties.instanceIds).not.toContain("i-run0077");
        // What the error carries is exactly what the emulator holds.
        const bound = f.emulator.model
            .instances()
            .filter((i) => i.keyPairName === "ops")
            .map((i) => i.id);
        expect(bound.sort()).toEqual([...error.properties.instanceIds].sort());
        expect(error.properties.restartedInstanceIds).toHaveLength(119);
        expect(f.emulator.model.instance("i-run0077")!.rebootCount).toBe(0);
    });

    test("a run that died between AttachKeyPair and the reboots is finished by the next create (the state lost it)", async () => {
        // (pid 5000000 is above Linux's pid_max: the process that wrote the note is certainly gone)
        f = await startFixture({
            keyPairs: [{ name: "ops" }],
            instances: [{ id: "i-a" }, { id: "i-b" }, { id: "i-s", status: "Stopped" }],
        });
        const journalDir = f.journalDir;
        // What the dead run left: the write-ahead note, then the binding; no reboot, nothing in the state.
        await new FileRestartJournal(journalDir, undefined, { pid: 5_000_000 }).note("cn-hangzhou", "ops", ["i-a", "i-b"]);
        for (const id of ["i-a", "i-b", "i-s"]) f.emulator.model.attachKeyPair(id, "ops");

        const { outs } = await f.hooks.create(inputs("ops", ["i-a", "i-b", "i-s"]));
        expect(outs.restartedInstanceIds.sort()).toEqual(["i-a", "i-b"]);
        for (const id of ["i-a", "i-b"])
            expect(f.emulator.model.instance(id)).toMatchObject({ effectiveKeyPairName: "ops", rebootCount: 1 });
        expect(f.emulator.model.instance("i-s")).toMatchObject({ rebootCount: 0, startCount: 0 });
        expect(f.emulator.calls.filter((c) => c.action === "AttachKeyPair")).toEqual([]);
        expect([...(await new FileRestartJournal(journalDir).owed("cn-hangzhou", "ops"))]).toEqual([]);

        // Nothing is owed any more: a second create restarts nothing.
        const again = await f.hooks.create(inputs("ops", ["i-a", "i-b", "i-s"]));
        expect(again.outs.restartedInstanceIds).toEqual([]);
    });

    test("a restart that does not finish in time is a partial failure naming the instance", async () => {
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-slow" }] }, { emulator: { timeScale: 1 } });
        const error = await rejectionOf(
            f.hooks.create(inputs("ops", ["i-slow"], { restart: { timeoutSeconds: 0.3, pollIntervalSeconds: 0.05 } })),
        );

        expect(error).toBeInstanceOf(PartialBindingError);
        expect(error.message).toMatch(/i-slow: RestartTimeout not Running 0.3 s after its restart \(status (Stopping|Starting)\)/);
        expect(error.properties.instanceIds).toEqual(["i-slow"]);
        expect(error.properties.pendingRestartInstanceIds).toEqual(["i-slow"]);
    });
});
