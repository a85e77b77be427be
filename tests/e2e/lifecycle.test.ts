/**
 * The quickstart example under the real Pulumi CLI, against an in-process emulator: one stack taken
 * through preview, up, no-op up, set change, drift, key change, a refused Windows instance, destroy —
 * asserting on the CLI's output, the stack outputs and the emulator's state and call log. The stack
 * holds its secret key as an encrypted config value (a canary), which must never reach the backend.
 */
import { randomBytes } from "node:crypto";

import { startEmulator, type Emulator } from "../../emulator";
import {
    E2E_TIMEOUT_MS,
    PulumiStack,
    QUICKSTART_DIR,
    attachmentLines,
    callsOf,
    describeWithCli,
    emulatorConfig,
    ensureBuiltAndLinked,
    mutatingCalls,
} from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const CANARY_KEY_ID = "e2e-canary-key";
const CANARY_SECRET = `canary-secret-${randomBytes(12).toString("hex")}`;

const WEB = ["i-e2eweb0001", "i-e2eweb0002", "i-e2eweb0003", "i-e2eweb0004"];
const STOPPED = "i-e2ebatch001";
const WINDOWS = "i-e2ewin00001";

describeWithCli("quickstart under the real Pulumi CLI", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;

    const instance = (id: string) => emulator.model.instance(id)!;
    const rebootCounts = () => Object.fromEntries([...WEB, STOPPED].map((id) => [id, instance(id).rebootCount]));
    const setInstanceIds = (ids: string[]) => stack.setConfigObject("instanceIds", ids);

    beforeAll(async () => {
        ensureBuiltAndLinked();
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05, // a reboot takes 400 ms
            seed: {
                accessKeys: [{ accessKeyId: CANARY_KEY_ID, accessKeySecret: CANARY_SECRET }],
                keyPairs: [{ name: "ops-2026" }, { name: "ops-2027" }],
                instances: [
                    ...WEB.map((id, i) => ({ id, name: `web-${i + 1}` })),
                    { id: STOPPED, name: "batch-1", status: "Stopped" as const },
                    { id: WINDOWS, name: "win-1", osType: "windows" as const },
                ],
            },
        });
        stack = new PulumiStack(binDir, QUICKSTART_DIR, "e2e-lifecycle");
        await stack.init();
        const { "alicloud:secretKey": _plain, ...config } = emulatorConfig(emulator, { accessKey: CANARY_KEY_ID, secretKey: "" });
        await stack.setConfigs(config);
        // The way users store the secret: encrypted in the stack config.
        await stack.setConfig("alicloud:secretKey", CANARY_SECRET, { secret: true });
        await stack.setConfig("keyPairName", "ops-2026");
        await setInstanceIds([WEB[0], WEB[1], WEB[2], STOPPED]);
        await stack.setConfigObject("restart", { pollIntervalSeconds: 0.1 });
    });

    afterAll(async () => {
        if (process.env.KPA_E2E_KEEP !== "1") stack?.remove();
        await emulator?.close();
    });

    it("1. preview of a new attachment shows one create and changes nothing in ECS", async () => {
        emulator.resetCalls();
        const preview = await stack.preview();
        expect(
            attachmentLines(preview.output).some((l) =>
                /^\s*\+\s+pulumi-nodejs:dynamic\/alicloud-ecs:KeyPairAttachment fleet-key create/.test(l),
            ),
        ).toBe(true);
        expect(preview.output).toMatch(/\+ 2 to create/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(WEB.map((id) => instance(id).keyPairName)).toEqual([undefined, undefined, undefined, undefined]);
    });

    it("2. up binds and restarts; the stack outputs match the emulator", async () => {
        emulator.resetCalls();
        const up = await stack.up();
        expect(up.output).toMatch(/KeyPairAttachment fleet-key created/);
        const outputs = await stack.outputs();
        expect(outputs.keyPairName).toBe("ops-2026");
        expect([...outputs.boundInstanceIds].sort()).toEqual([WEB[0], WEB[1], WEB[2], STOPPED].sort());
        expect([...outputs.restartedInstanceIds].sort()).toEqual([WEB[0], WEB[1], WEB[2]]);
        expect(outputs.pendingRestartInstanceIds).toEqual([STOPPED]);
        // The emulator agrees: bound, restarted once (key in effect) — the stopped one bound but not started.
        for (const id of [WEB[0], WEB[1], WEB[2]]) {
            expect(instance(id)).toMatchObject({
                keyPairName: "ops-2026",
                effectiveKeyPairName: "ops-2026",
                rebootCount: 1,
                status: "Running",
            });
        }
        expect(instance(STOPPED)).toMatchObject({ keyPairName: "ops-2026", status: "Stopped", startCount: 0 });
        expect(instance(WEB[3]).keyPairName).toBeUndefined();
        expect(up.output).toMatch(/warning: Key pair "ops-2026" is bound to i-e2ebatch001 but takes effect only at their next start/);
        expect(callsOf(emulator.calls, "AttachKeyPair")).toHaveLength(1);
    });

    it("3. a second up with no change reports no changes and sends no mutating call", async () => {
        emulator.resetCalls();
        const up = await stack.up();
        expect(up.output).toMatch(/2 unchanged/);
        expect(up.output).not.toMatch(/to update|updated|created|deleted/);
        const preview = await stack.preview(["--expect-no-changes"]);
        expect(preview.code).toBe(0);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("4. changing instanceIds is an update that touches only the added and removed instances, with a password-reset warning", async () => {
        await setInstanceIds([WEB[0], WEB[2], STOPPED, WEB[3]]); // web-2 out, web-4 in
        const before = rebootCounts();
        emulator.resetCalls();
        const preview = await stack.preview();
        expect(
            attachmentLines(preview.output).some((l) =>
                /~\s+pulumi-nodejs:dynamic\/alicloud-ecs:KeyPairAttachment fleet-key update/.test(l),
            ),
        ).toBe(true);
        expect(preview.output).not.toMatch(/replace|\+-/);
        expect(preview.output).toMatch(/~ 1 to update/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);

        const up = await stack.up();
        const mutating = mutatingCalls(emulator.calls);
        expect(mutating.flatMap((c) => c.instanceIds).sort()).toEqual([WEB[1], WEB[3], WEB[3]].sort()); // detach web-2; attach + reboot web-4
        expect(callsOf(mutating, "DetachKeyPair").flatMap((c) => c.instanceIds)).toEqual([WEB[1]]);
        expect(callsOf(mutating, "AttachKeyPair").flatMap((c) => c.instanceIds)).toEqual([WEB[3]]);
        expect(instance(WEB[1]).keyPairName).toBeUndefined();
        expect(instance(WEB[3]).keyPairName).toBe("ops-2026");
        expect(rebootCounts()).toEqual({ ...before, [WEB[3]]: before[WEB[3]] + 1 });
        // A real warning, from the program side, naming the removed instance.
        expect(up.output).toMatch(/warning: i-e2eweb0002 no longer holds a key pair from this resource: reset the password/);
        const outputs = await stack.outputs();
        expect(outputs.passwordResetRequiredInstanceIds).toEqual([WEB[1]]);
        expect([...outputs.boundInstanceIds].sort()).toEqual([WEB[0], WEB[2], WEB[3], STOPPED].sort());
    });

    it("5. an out-of-band detach fails `preview --refresh --expect-no-changes`, and `up --refresh` binds again", async () => {
        emulator.model.detachKeyPair(WEB[0]); // as if someone unbound it in the console
        emulator.resetCalls();
        const drift = await stack.preview(["--refresh", "--expect-no-changes"], { allowFailure: true });
        expect(drift.code).not.toBe(0);
        expect(drift.output).toMatch(/no changes were expected but changes were proposed|changes were proposed/i);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(instance(WEB[0]).keyPairName).toBeUndefined();

        const before = rebootCounts();
        const up = await stack.up(["--refresh"]);
        expect(up.output).toMatch(/updated/);
        expect(instance(WEB[0]).keyPairName).toBe("ops-2026");
        expect(callsOf(mutatingCalls(emulator.calls), "AttachKeyPair").flatMap((c) => c.instanceIds)).toEqual([WEB[0]]);
        expect(rebootCounts()).toEqual({ ...before, [WEB[0]]: before[WEB[0]] + 1 });
        expect((await stack.preview(["--refresh", "--expect-no-changes"])).code).toBe(0);
    });

    it("6. changing keyPairName updates in place with one restart per running instance", async () => {
        await stack.setConfig("keyPairName", "ops-2027");
        const preview = await stack.preview();
        expect(attachmentLines(preview.output).some((l) => /~\s+.*fleet-key update/.test(l))).toBe(true);
        expect(preview.output).not.toMatch(/replace|\+-/);

        const before = rebootCounts();
        emulator.resetCalls();
        await stack.up();
        const bound = [WEB[0], WEB[2], WEB[3], STOPPED];
        for (const id of bound) expect(instance(id).keyPairName).toBe("ops-2027");
        expect(callsOf(emulator.calls, "DetachKeyPair")).toEqual([]); // a key change is an attach with the new name
        expect(rebootCounts()).toEqual({
            ...before,
            [WEB[0]]: before[WEB[0]] + 1,
            [WEB[2]]: before[WEB[2]] + 1,
            [WEB[3]]: before[WEB[3]] + 1,
        });
        expect(instance(STOPPED).status).toBe("Stopped");
        const outputs = await stack.outputs();
        expect(outputs.keyPairName).toBe("ops-2027");
        expect([...outputs.restartedInstanceIds].sort()).toEqual([WEB[0], WEB[2], WEB[3]]);
    });

    it("8. a Windows instance in the set: up fails with a clear error and changes nothing; the stack works once the config is fixed", async () => {
        await setInstanceIds([WEB[0], WEB[2], STOPPED, WEB[3], WINDOWS]);
        const attachmentState = async () => {
            const resources = (await stack.exportState()).deployment.resources ?? [];
            const { id, inputs, outputs } = resources.find((r) => r.type === "pulumi-nodejs:dynamic/alicloud-ecs:KeyPairAttachment") ?? {};
            return { id, inputs, outputs };
        };
        const stateBefore = await attachmentState();
        emulator.resetCalls();
        const up = await stack.up([], { allowFailure: true });
        expect(up.code).not.toBe(0);
        expect(up.output).toMatch(/i-e2ewin00001[^\n]*Windows instances cannot use SSH key pairs/);
        expect(up.output).toMatch(/Nothing was changed/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(instance(WINDOWS).keyPairName).toBeUndefined();

        await setInstanceIds([WEB[0], WEB[2], STOPPED, WEB[3]]);
        emulator.resetCalls();
        const fixed = await stack.up();
        expect(fixed.output).toMatch(/2 unchanged/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(await attachmentState()).toEqual(stateBefore);
    });

    it("7. destroy unbinds, and its output names the instances that need a password reset", async () => {
        const before = rebootCounts();
        emulator.resetCalls();
        const destroy = await stack.destroy();
        const bound = [WEB[0], WEB[2], WEB[3], STOPPED];
        for (const id of bound) expect(instance(id).keyPairName).toBeUndefined();
        expect(
            callsOf(emulator.calls, "DetachKeyPair")
                .flatMap((c) => c.instanceIds)
                .sort(),
        ).toEqual(bound.sort());
        expect(rebootCounts()).toEqual(before); // restart.onUnbind is off
        const notice = destroy.output.split("\n").find((l) => /unbound key pair "ops-2027" from/.test(l));
        expect(notice).toBeDefined();
        for (const id of bound) expect(notice).toContain(id);
        expect(notice).toMatch(/Reset (their passwords|the password)/);
        expect(destroy.output).toMatch(/2 deleted/);
    });

    it("10. the backend's state files never hold the access key secret", () => {
        // The canary key signed every call above (the emulator accepts no other key for it).
        const backend = stack.backendText();
        expect(backend.length).toBeGreaterThan(1000);
        expect(backend).toContain("KeyPairAttachment"); // the history is there
        expect(backend).not.toContain(CANARY_SECRET);
        expect(stack.outputsSeen().join("\n")).not.toContain(CANARY_SECRET); // nor anything the CLI printed
    });
});
