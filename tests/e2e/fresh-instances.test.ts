/**
 * Issue 11, item 1, under the real Pulumi CLI: one `pulumi up` creates instances (RunInstances,
 * through a test-only dynamic resource) and binds a key pair to them. The fresh instances answer
 * AttachKeyPair with IncorrectInstanceStatus.Initializing for their initialization window (60 s,
 * 3 s at this time scale); the provider waits that out within waitForReadySeconds (default 300 s)
 * instead of failing.
 */
import * as path from "node:path";

import type { Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, startEmulatorStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const PROGRAM_DIR = path.join(__dirname, "fixtures", "fresh-instances");

describeWithCli("instances created and bound in one pulumi up", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;

    let close = () => Promise.resolve();

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-fresh",
            projectDir: PROGRAM_DIR,
            emulator: {
                timeScale: 0.05,
                seed: { keyPairs: [{ name: "ops-2026" }], instances: [], settings: { initializationMs: 60_000 } },
            },
            config: { keyPairName: "ops-2026", count: "3" },
        }));
    });

    afterAll(async () => {
        await close();
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
