/**
 * Crash safety when the whole `pulumi up` dies — the CLI and its plugins, the dynamic provider
 * included — after AttachKeyPair and before any reboot. The engine never hears back from create, so
 * the state loses the resource; the provider's write-ahead restart journal (under PULUMI_HOME) is
 * what lets the next `pulumi up` know that the bound instances still owe their restart.
 */

import type { Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, startEmulatorStack, upKilledWhen } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const FLEET = ["i-crashweb001", "i-crashweb002"];

describeWithCli("an up whose whole process tree is killed after AttachKeyPair", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;
    let close = () => Promise.resolve();
    const instance = (id: string) => emulator.model.instance(id)!;

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-crash",
            emulator: { timeScale: 0.05, seed: { keyPairs: [{ name: "ops-2026" }], instances: FLEET.map((id) => ({ id })) } },
            config: { keyPairName: "ops-2026", instanceIds: FLEET, restart: { pollIntervalSeconds: 0.1 } },
        }));
    });

    afterAll(async () => {
        await close();
    });

    it("the next refresh and up restart the bound instances exactly once", async () => {
        // ECS carries out AttachKeyPair at once but answers late: the run dies holding no answer.
        const slowAttach = emulator.faults.add({ action: "AttachKeyPair", answerAfterMs: 20_000 });
        await upKilledWhen(stack, () => callsOf(emulator.calls, "AttachKeyPair").length >= 1, 60_000, "AttachKeyPair");
        emulator.faults.remove(slowAttach);
        for (const id of FLEET)
            expect(instance(id)).toMatchObject({ keyPairName: "ops-2026", effectiveKeyPairName: undefined, rebootCount: 0 });
        expect(callsOf(emulator.calls, "RebootInstances")).toEqual([]);

        await stack.pulumi(["cancel", "--yes"]);
        await stack.refresh(["--clear-pending-creates"]);
        const up = await stack.up();
        expect(up.code).toBe(0);
        for (const id of FLEET)
            expect(instance(id)).toMatchObject({ keyPairName: "ops-2026", effectiveKeyPairName: "ops-2026", rebootCount: 1 });
        expect([...(await stack.outputs()).restartedInstanceIds].sort()).toEqual(FLEET);

        // Settled: another up owes nothing and changes nothing.
        emulator.resetCalls();
        expect((await stack.preview(["--expect-no-changes"])).code).toBe(0);
        expect(callsOf(emulator.calls, "RebootInstances")).toEqual([]);
        await stack.destroy();
    });
});
