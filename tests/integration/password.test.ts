/** passwordOnUnbind: unbound instances get a password and a graceful restart, so nobody is locked out. */
import type { KeyPairAttachmentOutputs } from "../../provider/types";
import { FAST_RESTART, Fixture, inputs, startFixture, rejectionOf } from "./fixture";

const PASSWORD = "Canary-Pw-7f3a9c";

const fleet = {
    keyPairs: [{ name: "ops" }],
    instances: [{ id: "i-keep" }, { id: "i-run1" }, { id: "i-run2" }, { id: "i-stop", status: "Stopped" as const }],
};

describe("passwordOnUnbind", () => {
    let f: Fixture;
    let id: string;
    let outs: KeyPairAttachmentOutputs;
    const all = ["i-keep", "i-run1", "i-run2", "i-stop"];

    beforeEach(async () => {
        f = await startFixture(fleet);
        ({ id, outs } = await f.hooks.create(inputs("ops", all, { passwordOnUnbind: PASSWORD })));
        f.emulator.resetCalls();
        f.logs.length = 0;
    });
    afterEach(async () => f.close());

    test("an update that removes instances sets the password on exactly those and restarts the running ones gracefully", async () => {
        const { outs: after } = await f.hooks.update(id, outs, inputs("ops", ["i-keep"], { passwordOnUnbind: PASSWORD }));
        const model = f.emulator.model;

        for (const i of ["i-run1", "i-run2"]) {
            expect(model.instance(i)).toMatchObject({
                keyPairName: undefined,
                password: PASSWORD,
                passwordEffective: true,
                rebootCount: 2,
                forcedRebootCount: 0,
            });
        }
        expect(model.instance("i-stop")).toMatchObject({
            keyPairName: undefined,
            password: PASSWORD,
            passwordEffective: false,
            startCount: 0,
        });
        expect(model.instance("i-keep")!.password).toBeUndefined();
        expect(
            f.emulator.calls
                .filter((c) => c.action === "ModifyInstanceAttribute")
                .map((c) => c.params.InstanceId)
                .sort(),
        ).toEqual(["i-run1", "i-run2", "i-stop"]);
        expect(after.passwordResetRequiredInstanceIds).toEqual([]);
        expect(after.passwordResetFailures).toEqual({});
        expect(after.pendingRestartInstanceIds).toEqual(["i-stop"]);
        expect(after.restartedInstanceIds.sort()).toEqual(["i-run1", "i-run2"]);
        expect(f.logs.join("\n")).toMatch(/passwordOnUnbind was set on i-run1, i-run2, i-stop\./);
    });

    test("the unbind restarts roll per restart.batchSize", async () => {
        await f.hooks.update(
            id,
            outs,
            inputs("ops", ["i-keep"], { passwordOnUnbind: PASSWORD, restart: { ...FAST_RESTART, batchSize: 1 } }),
        );
        expect(f.emulator.calls.filter((c) => c.action === "RebootInstances").map((c) => c.instanceIds)).toEqual([["i-run1"], ["i-run2"]]);
    });

    test("with restart.force, bound instances are power-cycled but unbound ones still restart gracefully", async () => {
        f.emulator.model.addInstance({ id: "i-new" });
        const { outs: after } = await f.hooks.update(
            id,
            outs,
            inputs("ops", ["i-keep", "i-new"], { passwordOnUnbind: PASSWORD, restart: { ...FAST_RESTART, force: true } }),
        );
        expect(f.emulator.model.instance("i-new")).toMatchObject({ forcedRebootCount: 1 });
        expect(f.emulator.model.instance("i-run1")).toMatchObject({ rebootCount: 2, forcedRebootCount: 0, passwordEffective: true });
        expect(after.restartedInstanceIds.sort()).toEqual(["i-new", "i-run1", "i-run2"]);
    });

    test("delete sets the password on every instance it unbinds and restarts the running ones", async () => {
        await f.hooks.delete(id, outs);
        for (const i of ["i-keep", "i-run1", "i-run2"])
            expect(f.emulator.model.instance(i)).toMatchObject({ password: PASSWORD, passwordEffective: true });
        expect(f.emulator.model.instance("i-stop")).toMatchObject({ password: PASSWORD, startCount: 0 });
        expect(f.logs.join("\n")).toMatch(/unbound key pair "ops" from i-keep, i-run1, i-run2, i-stop\. passwordOnUnbind was set on/);
        expect(f.logs.join("\n")).not.toMatch(/Reset the password/);
    });

    test("an instance whose reset failed is still listed as needing a reset, with the reason", async () => {
        f.emulator.faults.add({ action: "ModifyInstanceAttribute", code: "IncorrectInstanceStatus", status: 403, times: Infinity });
        const { outs: after } = await f.hooks.update(
            id,
            outs,
            inputs("ops", ["i-keep", "i-run2", "i-stop"], { passwordOnUnbind: PASSWORD }),
        );
        expect(after.passwordResetRequiredInstanceIds).toEqual(["i-run1"]);
        expect(after.passwordResetFailures).toEqual({ "i-run1": expect.stringMatching(/^IncorrectInstanceStatus: /) as unknown });
        expect(f.emulator.model.instance("i-run1")).toMatchObject({ keyPairName: undefined, rebootCount: 1 });
        expect(f.emulator.model.instance("i-run1")!.password).toBeUndefined();
        expect(f.logs.join("\n")).toMatch(/Setting the password failed: i-run1: IncorrectInstanceStatus.*Reset the password of i-run1/);
    });

    test("the password never appears in logs, errors or the emulator's call log", async () => {
        f.emulator.faults.add({ action: "RebootInstances", code: "InternalError", status: 500, times: Infinity });
        const error = await rejectionOf(f.hooks.update(id, outs, inputs("ops", ["i-keep"], { passwordOnUnbind: PASSWORD })));
        await f.hooks.delete(id, { ...outs, instanceIds: ["i-keep"] }).catch(() => undefined);
        const seen = JSON.stringify({ logs: f.logs, error: String(error), reasons: error?.reasons, calls: f.emulator.calls });
        expect(seen).not.toContain(PASSWORD);
        expect(error.message).toMatch(/InternalError/);
    });

    test("changing only the password is an update with no API call", async () => {
        const diff = await f.hooks.diff(id, outs, inputs("ops", all, { passwordOnUnbind: "Other-Pw-2026" }));
        expect(diff).toEqual({ changes: true });
        const { outs: after } = await f.hooks.update(id, outs, inputs("ops", all, { passwordOnUnbind: "Other-Pw-2026" }));
        expect(after.passwordOnUnbind).toBe("Other-Pw-2026");
        expect(f.emulator.calls).toEqual([]);
    });
});
