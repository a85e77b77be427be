/**
 * Crash safety that survives the machine (issue 11): the whole `pulumi up` process tree is killed
 * during wave 2 of a rolling restart, and the next run happens elsewhere — a fresh PULUMI_HOME, so
 * no local restart journal. The owed restarts are known from the `pulumi-kpa:restart-owed` tags the
 * provider wrote in ECS before AttachKeyPair: every owed instance is restarted exactly once (the
 * wave-2 instance, rebooted by the lost run, only untagged: its StartTime moved), and no tag is left.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { Emulator } from "../../emulator";
import { RESTART_OWED_TAG } from "../../provider/tag-journal";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, startEmulatorStack, upKilledWhen, waitFor } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const FLEET = ["i-wave1", "i-wave2", "i-wave3"];

describeWithCli("a rolling restart whose runner is lost in wave 2", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;
    let close = () => Promise.resolve();
    const instance = (id: string) => emulator.model.instance(id)!;

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-lost-runner",
            emulator: { timeScale: 0.05, seed: { keyPairs: [{ name: "ops-2026" }], instances: FLEET.map((id) => ({ id })) } },
            config: { keyPairName: "ops-2026", instanceIds: FLEET, restart: { batchSize: 1, pollIntervalSeconds: 0.1 } },
        }));
    });

    afterAll(async () => {
        await close();
    });

    it("another machine restarts each owed instance exactly once, and removes every tag", async () => {
        // Wave 2 has been sent: kill the CLI, the language host and the dynamic provider together.
        await upKilledWhen(stack, () => callsOf(emulator.calls, "RebootInstances").length >= 2, 90_000, "the second restart wave");
        const lostRun = {
            reboots: callsOf(emulator.calls, "RebootInstances").map((c) => c.instanceIds),
            tags: Object.fromEntries(FLEET.map((id) => [id, instance(id).tags[RESTART_OWED_TAG] !== undefined])),
        };
        expect(lostRun.reboots).toEqual([["i-wave1"], ["i-wave2"]]);
        // Wave 1 was settled before wave 2 started; waves 2 and 3 are still noted in ECS.
        expect(lostRun.tags).toEqual({ "i-wave1": false, "i-wave2": true, "i-wave3": true });
        for (const id of FLEET) expect(instance(id).keyPairName).toBe("ops-2026");

        // Another machine: the same backend, nothing of the lost runner's PULUMI_HOME.
        const freshHome = path.join(stack.tempDir, "another-machine-home");
        fs.mkdirSync(freshHome);
        stack.env.PULUMI_HOME = freshHome;
        emulator.resetCalls();
        await stack.pulumi(["cancel", "--yes"], { allowFailure: true });
        await stack.refresh(["--clear-pending-creates"]);
        const up = await stack.up();
        expect(up.code).toBe(0);

        await waitFor(() => FLEET.every((id) => instance(id).status === "Running"), 30_000, "every instance Running");
        expect(Object.fromEntries(FLEET.map((id) => [id, instance(id).rebootCount]))).toEqual({ "i-wave1": 1, "i-wave2": 1, "i-wave3": 1 });
        expect(callsOf(emulator.calls, "RebootInstances").map((c) => c.instanceIds)).toEqual([["i-wave3"]]);
        for (const id of FLEET) expect(instance(id)).toMatchObject({ effectiveKeyPairName: "ops-2026", tags: {} });
        expect(fs.existsSync(path.join(freshHome, "keypair-attachment", "journal"))).toBe(false);

        emulator.resetCalls();
        expect((await stack.preview(["--expect-no-changes"])).code).toBe(0);
        expect(callsOf(emulator.calls, "RebootInstances")).toEqual([]);
        await stack.destroy();
    });
});
