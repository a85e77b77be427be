/** diff, read, update and delete against the emulator through the real SDK. */
import type { KeyPairAttachmentOutputs } from "../../provider/types";
import { UNKNOWN_VALUE } from "../../provider/validate";
import { FAST_RESTART, Fixture, inputs, mutatingCalls, startFixture, rejectionOf } from "./fixture";

const fleet = {
    keyPairs: [{ name: "ops" }, { name: "ops-next" }, { name: "someone-else" }],
    instances: [{ id: "i-a" }, { id: "i-b" }, { id: "i-c" }, { id: "i-d" }, { id: "i-stopped", status: "Stopped" as const }],
};

describe("with a created attachment", () => {
    let f: Fixture;
    let id: string;
    let outs: KeyPairAttachmentOutputs;

    beforeEach(async () => {
        f = await startFixture(fleet);
        ({ id, outs } = await f.hooks.create(inputs("ops", ["i-a", "i-b", "i-stopped"])));
        f.emulator.resetCalls();
        f.logs.length = 0;
    });
    afterEach(async () => f.close());

    describe("diff", () => {
        // A binding change is looked at read-only (the preview states its cost); nothing else asks ECS.
        test.each([
            ["the same set in another order", { instanceIds: ["i-stopped", "i-b", "i-a"] }, { changes: false }, false],
            ["an added instance", { instanceIds: ["i-a", "i-b", "i-stopped", "i-c"] }, { changes: true }, true],
            ["a removed instance", { instanceIds: ["i-a"] }, { changes: true }, true],
            ["a key change", { keyPairName: "ops-next" }, { changes: true }, true],
            ["a restart setting only", { restart: { ...FAST_RESTART, batchSize: 2 } }, { changes: true }, false],
            ["an explicit default restart setting", { restart: { ...FAST_RESTART, enabled: true } }, { changes: false }, false],
            ["the region made explicit with the same value", { region: "cn-hangzhou" }, { changes: false }, false],
            ["another region", { region: "cn-beijing" }, { changes: true, replaces: ["region"], deleteBeforeReplace: true }, false],
            ["an unknown instance id", { instanceIds: ["i-a", UNKNOWN_VALUE] }, { changes: true }, true],
            ["an unknown key", { keyPairName: UNKNOWN_VALUE }, { changes: true }, true],
        ])("%s", async (_name, change, expected, looksAtEcs) => {
            const result = await f.hooks.diff(id, outs, { ...inputs("ops", ["i-a", "i-b", "i-stopped"]), ...change });
            expect(result).toEqual(expected);
            expect(mutatingCalls(f.emulator)).toEqual([]);
            expect(f.emulator.calls.length > 0).toBe(looksAtEcs);
        });

        test("work an earlier run left unfinished (an owed restart, a key to release) is a change", async () => {
            const same = inputs("ops", ["i-a", "i-b", "i-stopped"]);
            expect(await f.hooks.diff(id, { ...outs, restartOwedInstanceIds: ["i-a"] }, same)).toEqual({ changes: true });
            expect(await f.hooks.diff(id, { ...outs, leftoverKeyPairs: { "i-c": "ops-next" } }, same)).toEqual({ changes: true });
        });
    });

    describe("read", () => {
        test("keeps every instance while nothing drifted", async () => {
            const { id: readId, props } = await f.hooks.read(id, outs);
            expect(readId).toBe(id);
            expect(props.instanceIds).toEqual(["i-a", "i-b", "i-stopped"]);
            expect(mutatingCalls(f.emulator)).toEqual([]);
        });

        test("drops instances detached, re-keyed or deleted out of band", async () => {
            f.emulator.model.detachKeyPair("i-a");
            f.emulator.model.attachKeyPair("i-b", "someone-else");
            f.emulator.model.deleteInstance("i-stopped");
            const { id: readId, props } = await f.hooks.read(id, outs);
            expect(readId).toBe(id);
            expect(props.instanceIds).toEqual([]);
            expect(props.pendingRestartInstanceIds).toEqual([]);
        });

        test("an empty id only when the key pair itself is gone", async () => {
            // ECS refuses to delete a key pair that is still bound (InvalidParameter.KeypairAlreadyAttachedInstance): unbind first.
            for (const instanceId of ["i-a", "i-b", "i-stopped"]) f.emulator.model.detachKeyPair(instanceId);
            expect((await f.hooks.read(id, outs)).id).toBe(id);
            expect(f.emulator.model.deleteKeyPair("ops")).toBe(true);
            expect((await f.hooks.read(id, outs)).id).toBe("");
        });
    });

    describe("update", () => {
        test("adds and removes: detaches only the removed, attaches only the added, restarts only the added", async () => {
            const news = inputs("ops", ["i-b", "i-stopped", "i-c"]);
            const result = await f.hooks.update(id, outs, news);

            expect(result.outs.instanceIds).toEqual(["i-b", "i-stopped", "i-c"]);
            expect(result.outs.restartedInstanceIds).toEqual(["i-c"]);
            expect(result.outs.passwordResetRequiredInstanceIds).toEqual(["i-a"]);
            const touched = (action: string) => f.emulator.calls.filter((c) => c.action === action).flatMap((c) => c.instanceIds);
            expect(touched("DetachKeyPair")).toEqual(["i-a"]);
            expect(touched("AttachKeyPair")).toEqual(["i-c"]);
            expect(touched("RebootInstances")).toEqual(["i-c"]);
            expect(f.emulator.model.instance("i-a")).toMatchObject({ keyPairName: undefined, rebootCount: 1 });
            expect(f.emulator.model.instance("i-b")!.rebootCount).toBe(1);
            expect(f.logs.join("\n")).toMatch(/unbound key pair "ops" from i-a\. Reset the password of i-a before logging on/);
        });

        test("never detaches a removed instance that now holds another key", async () => {
            f.emulator.model.attachKeyPair("i-a", "someone-else");
            const result = await f.hooks.update(id, outs, inputs("ops", ["i-b", "i-stopped"]));
            expect(f.emulator.calls.filter((c) => c.action === "DetachKeyPair")).toEqual([]);
            expect(f.emulator.model.instance("i-a")!.keyPairName).toBe("someone-else");
            expect(result.outs.passwordResetRequiredInstanceIds).toEqual([]);
        });

        test("a key change is in place: attach the new key everywhere, no detach, one restart per running instance", async () => {
            const result = await f.hooks.update(id, outs, inputs("ops-next", ["i-a", "i-b", "i-stopped"]));

            expect(result.outs.keyPairName).toBe("ops-next");
            expect(result.outs.instanceIds).toEqual(["i-a", "i-b", "i-stopped"]);
            expect(result.outs.replacedKeyPairs).toEqual({});
            expect(f.emulator.calls.filter((c) => c.action === "DetachKeyPair")).toEqual([]);
            expect(
                f.emulator.calls
                    .filter((c) => c.action === "AttachKeyPair")
                    .flatMap((c) => c.instanceIds)
                    .sort(),
            ).toEqual(["i-a", "i-b", "i-stopped"]);
            expect(f.emulator.model.instance("i-a")).toMatchObject({ effectiveKeyPairName: "ops-next", rebootCount: 2 });
            expect(f.emulator.model.instance("i-stopped")).toMatchObject({ keyPairName: "ops-next", rebootCount: 0, startCount: 0 });
            expect(result.outs.pendingRestartInstanceIds).toEqual(["i-stopped"]);
        });

        test("restart settings alone make no API call", async () => {
            const result = await f.hooks.update(id, outs, inputs("ops", ["i-stopped", "i-a", "i-b"], { restart: { batchSize: 1 } }));
            expect(f.emulator.calls).toEqual([]);
            expect(result.outs.restart).toEqual({ batchSize: 1 });
            const unset = await f.hooks.update(id, result.outs, {
                ...inputs("ops", ["i-a", "i-b", "i-stopped"]),
                restart: undefined,
            });
            expect("restart" in unset.outs).toBe(false);
            expect(result.outs.instanceIds).toEqual(outs.instanceIds);
        });

        test("re-binds an instance that drifted (after a refresh dropped it)", async () => {
            f.emulator.model.detachKeyPair("i-a");
            const { props } = await f.hooks.read(id, outs);
            const result = await f.hooks.update(id, props, inputs("ops", ["i-a", "i-b", "i-stopped"]));
            expect(result.outs.instanceIds).toEqual(["i-a", "i-b", "i-stopped"]);
            expect(f.emulator.calls.filter((c) => c.action === "AttachKeyPair").flatMap((c) => c.instanceIds)).toEqual(["i-a"]);
            expect(f.emulator.model.instance("i-a")!.keyPairName).toBe("ops");
        });
    });

    describe("delete", () => {
        test("detaches only instances holding this key, tolerates deleted ones, restarts nothing, names the password resets", async () => {
            f.emulator.model.attachKeyPair("i-b", "someone-else");
            f.emulator.model.deleteInstance("i-stopped");
            await f.hooks.delete(id, outs);

            expect(f.emulator.calls.filter((c) => c.action === "DetachKeyPair").flatMap((c) => c.instanceIds)).toEqual(["i-a"]);
            expect(f.emulator.model.instance("i-a")).toMatchObject({ keyPairName: undefined, rebootCount: 1 });
            expect(f.emulator.model.instance("i-b")!.keyPairName).toBe("someone-else");
            expect(f.emulator.calls.filter((c) => c.action === "RebootInstances")).toEqual([]);
            expect(f.logs).toEqual([
                expect.stringMatching(
                    new RegExp(`KeyPairAttachment ${id}: unbound key pair "ops" from i-a\\. Reset the password of i-a before logging on`),
                ),
            ]);
        });

        test("restart.onUnbind restarts the running instances it unbound", async () => {
            await f.hooks.delete(id, { ...outs, restart: { ...FAST_RESTART, onUnbind: true } });
            expect(
                f.emulator.calls
                    .filter((c) => c.action === "RebootInstances")
                    .flatMap((c) => c.instanceIds)
                    .sort(),
            ).toEqual(["i-a", "i-b"]);
            expect(f.emulator.model.instance("i-a")).toMatchObject({
                keyPairName: undefined,
                effectiveKeyPairName: undefined,
                rebootCount: 2,
            });
            expect(f.emulator.model.instance("i-stopped")!.startCount).toBe(0);
        });

        test("a failed restart after the unbind does not fail the delete (a second one would have nothing to do), and says what to restart", async () => {
            f.emulator.faults.add({ action: "RebootInstances", code: "Forbidden.RAM", status: 403, times: Infinity });
            await f.hooks.delete(id, { ...outs, restart: { ...FAST_RESTART, onUnbind: true } });
            expect(f.emulator.model.instance("i-a")!.keyPairName).toBeUndefined();
            expect(f.logs.join("\n")).toMatch(/restarting after the unbind failed: i-a, i-b: Forbidden.RAM .*Restart these instances/);
        });

        test("when some instances cannot be unbound, the others are finished and the delete fails naming the rest", async () => {
            f.emulator.faults.add({ action: "DetachKeyPair", instanceFailures: [{ instanceId: "i-b", code: "IncorrectInstanceStatus" }] });
            const error = await rejectionOf(f.hooks.delete(id, { ...outs, passwordOnUnbind: "Abcdef12" }));
            expect(error.message).toMatch(
                /could not be unbound from 1 instance\(s\): i-b: IncorrectInstanceStatus.*Unbound: i-a, i-stopped/,
            );
            expect(f.emulator.model.instance("i-a")).toMatchObject({
                keyPairName: undefined,
                password: "Abcdef12",
                passwordEffective: true,
            });
            expect(f.emulator.model.instance("i-b")!.keyPairName).toBe("ops");
            expect(f.logs.join("\n")).toMatch(/unbound key pair "ops" from i-a, i-stopped\. passwordOnUnbind was set on i-a, i-stopped/);
        });

        test("a second delete after success changes nothing", async () => {
            await f.hooks.delete(id, outs);
            f.emulator.resetCalls();
            await f.hooks.delete(id, outs);
            expect(mutatingCalls(f.emulator)).toEqual([]);
        });
    });
});
