/**
 * Issue 11, item 1, under the real Pulumi CLI: one `pulumi up` creates instances (RunInstances,
 * through a test-only dynamic resource) and binds a key pair to them. The fresh instances answer
 * AttachKeyPair with IncorrectInstanceStatus.Initializing for their initialization window (60 s,
 * 3 s at this time scale); the provider waits that out within waitForReadySeconds (default 300 s)
 * instead of failing.
 */
import * as path from "node:path";

import { startEmulator, type Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, emulatorConfig, ensureBuiltAndLinked } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const PROGRAM_DIR = path.join(__dirname, "fixtures", "fresh-instances");

describeWithCli("instances created and bound in one pulumi up", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;

    beforeAll(async () => {
        ensureBuiltAndLinked();
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05,
            seed: { keyPairs: [{ name: "ops-2026" }], instances: [], settings: { initializationMs: 60_000 } },
        });
        stack = new PulumiStack(binDir, PROGRAM_DIR, "e2e-fresh");
        await stack.init();
        await stack.setConfigs({ ...emulatorConfig(emulator), keyPairName: "ops-2026", count: "3" });
    });

    afterAll(async () => {
        if (process.env.KPA_E2E_KEEP !== "1") stack?.remove();
        await emulator?.close();
    });

    it("waits out the fresh instances' initialization, binds and restarts each once; destroy releases them", async () => {
        const up = await stack.up();
        expect(up.code).toBe(0);
        const outputs = (await stack.outputs()) as unknown as Record<string, string[]>;
        const created = outputs.createdInstanceIds;
        expect(created).toHaveLength(3);
        expect(outputs.boundInstanceIds).toEqual(created);
        expect([...outputs.restartedInstanceIds].sort()).toEqual([...created].sort());

        // The first AttachKeyPair met the initialization window; the later ones carried only what was refused.
        const attaches = callsOf(emulator.calls, "AttachKeyPair");
        expect(attaches.length).toBeGreaterThan(1);
        expect([...attaches[0].instanceIds].sort()).toEqual([...created].sort());
        for (const id of created) {
            expect(emulator.model.instance(id)).toMatchObject({
                keyPairName: "ops-2026",
                effectiveKeyPairName: "ops-2026",
                rebootCount: 1,
                tags: {},
            });
        }

        await stack.destroy();
        expect(created.map((id) => emulator.model.instance(id))).toEqual([undefined, undefined, undefined]);
    });
});
