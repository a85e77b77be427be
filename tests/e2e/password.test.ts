/**
 * passwordOnUnbind under the real Pulumi CLI: a secret stack config value reaches the resource,
 * unbound instances get it (and a graceful restart), and it never appears in plain text in the
 * backend's state files or in anything the CLI printed.
 */
import { randomBytes } from "node:crypto";

import type { Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, startEmulatorStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

// Valid for ECS (upper, lower, digits) and unique per run, so finding it anywhere is a leak.
const PASSWORD = `Pw${randomBytes(8).toString("hex")}Z9`;
const IDS = ["i-e2epw000001", "i-e2epw000002", "i-e2epw000003"];

describeWithCli("passwordOnUnbind under the real Pulumi CLI", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;
    let close = () => Promise.resolve();
    const instance = (id: string) => emulator.model.instance(id)!;

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-password",
            emulator: {
                timeScale: 0.05,
                seed: {
                    keyPairs: [{ name: "ops-2026" }],
                    instances: [...IDS.slice(0, 2).map((id) => ({ id })), { id: IDS[2], status: "Stopped" as const }],
                },
            },
            config: { keyPairName: "ops-2026", instanceIds: IDS, restart: { pollIntervalSeconds: 0.1 } },
            alwaysRemove: true,
        }));
        await stack.setConfig("passwordOnUnbind", PASSWORD, { secret: true });
    });

    afterAll(async () => {
        await close();
    });

    it("an update that removes instances gives them the password; destroy gives it to the rest", async () => {
        await stack.up();
        expect(IDS.map((id) => instance(id).keyPairName)).toEqual(["ops-2026", "ops-2026", "ops-2026"]);

        emulator.resetCalls();
        await stack.setConfigObject("instanceIds", [IDS[0]]);
        const up = await stack.up();
        expect(instance(IDS[1])).toMatchObject({
            keyPairName: undefined,
            password: PASSWORD,
            passwordEffective: true,
            forcedRebootCount: 0,
        });
        expect(instance(IDS[2])).toMatchObject({ keyPairName: undefined, password: PASSWORD, passwordEffective: false, startCount: 0 });
        expect(instance(IDS[0]).password).toBeUndefined();
        expect(
            callsOf(emulator.calls, "ModifyInstanceAttribute")
                .map((c) => c.params.InstanceId)
                .sort(),
        ).toEqual([IDS[1], IDS[2]]);
        expect(up.output).not.toMatch(/no longer holds? a key pair/);
        const outputs = await stack.outputs();
        expect(outputs.passwordResetRequiredInstanceIds).toEqual([]);
        expect(outputs.pendingRestartInstanceIds).toEqual([IDS[2]]);

        await stack.destroy();
        expect(instance(IDS[0])).toMatchObject({ keyPairName: undefined, password: PASSWORD, passwordEffective: true });
    });

    it("the password is never in plain text in the state files or the CLI's output", () => {
        expect(stack.backendText()).not.toContain(PASSWORD);
        expect(stack.outputsSeen().join("\n")).not.toContain(PASSWORD);
    });
});
