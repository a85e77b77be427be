/**
 * Cancel (Ctrl-C once) during a rolling restart, with the real CLI and the plugin: the engine sends
 * Cancel to the plugin, the wave in flight finishes, no new wave starts, the partial state records
 * the owed restarts, and the next `pulumi up` does exactly those. The emulator's clock is frozen
 * while the first wave is in flight, so the test decides when that wave ends (no race with the
 * wall clock); afterwards it runs on real time again.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { startEmulator, type Clock, type Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, waitFor } from "../e2e/harness";
import { PLUGIN_DIR, YamlProject, describeWithYaml, ensurePluginBuilt, pluginStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const IDS = ["i-plugcan0001", "i-plugcan0002", "i-plugcan0003", "i-plugcan0004"];

/** Real time, shifted; or frozen at one instant until resumed. */
class PausableClock implements Clock {
    private offset = 0;
    private frozenAt?: number;
    now(): number {
        return this.frozenAt ?? Date.now() + this.offset;
    }
    freeze(): void {
        this.frozenAt = this.now();
    }
    /** Moves time forward by `ms` and lets it run again from there. */
    resumeAfter(ms: number): void {
        const at = (this.frozenAt ?? this.now()) + ms;
        this.frozenAt = undefined;
        this.offset = at - Date.now();
    }
}

describeWithYaml("Cancel during a rolling restart, through the provider plugin", ({ binDir, yamlDir }) => {
    let emulator: Emulator;
    let project: YamlProject;
    let stack: PulumiStack;
    const clock = new PausableClock();
    const reboots = () => IDS.map((id) => emulator.model.instance(id)!.rebootCount);

    beforeAll(async () => {
        ensurePluginBuilt();
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05,
            clock,
            seed: {
                accessKeys: [{ accessKeyId: "plugin-e2e-key", accessKeySecret: "plugin-e2e-secret" }],
                keyPairs: [{ name: "deploy" }],
                instances: IDS.map((id, i) => ({ id, name: `can-${i + 1}` })),
            },
        });
        // The plugin named by the project (the other documented way), not installed.
        project = new YamlProject(`name: kpa-plugin-cancel
runtime: yaml
plugins:
  providers:
    - name: alicloud-keypair
      path: ${PLUGIN_DIR}
resources:
  fleet:
    type: alicloud-keypair:ecs:KeyPairAttachment
    properties:
      keyPairName: deploy
      instanceIds: [${IDS.join(", ")}]
      restart:
        batchSize: 1
        pollIntervalSeconds: 0.05
`);
        stack = await pluginStack(binDir, yamlDir, project.dir, "plugin-cancel", emulator, { install: false });
    });

    afterAll(async () => {
        stack?.remove();
        project?.remove();
        await emulator?.close();
    });

    it("stops between waves on Cancel, records the owed restarts, and the next up does only those", async () => {
        clock.freeze();
        let printed = "";
        let cli: ChildProcess | undefined;
        const up = stack.up([], {
            allowFailure: true,
            onSpawn: (child) => {
                cli = child;
                child.stdout?.on("data", (chunk: Buffer) => (printed += chunk.toString("utf8")));
            },
        });
        // Wave 1 is sent; its instance cannot come back while the clock stands still.
        await waitFor(
            () => callsOf(emulator.calls, "RebootInstances").length + callsOf(emulator.calls, "RebootInstance").length > 0,
            120_000,
            "the first restart wave",
        );
        process.kill(cli!.pid!, "SIGINT"); // Ctrl-C once, to the CLI alone (not its process group)
        await waitFor(() => printed.includes("cancel received"), 60_000, "the plugin to receive Cancel");
        clock.resumeAfter(60_000); // wave 1 finishes
        const result = await up;
        expect(fs.existsSync(path.join(stack.homeDir, "plugins", "resource-alicloud-keypair-v0.1.0"))).toBe(false);

        expect(result.code).not.toBe(0);
        expect(reboots().reduce((a, b) => a + b, 0)).toBe(1);
        const first = IDS[reboots().indexOf(1)];
        const owed = IDS.filter((id) => id !== first);
        expect(IDS.map((id) => emulator.model.instance(id)!.keyPairName)).toEqual(IDS.map(() => "deploy"));
        expect(result.output).toMatch(/Cancelled: not restarted: the operation was cancelled before this restart wave/);
        const state = await stack.exportState();
        const fleet = state.deployment.resources!.find((r) => r.type === "alicloud-keypair:ecs:KeyPairAttachment")!;
        expect(fleet.outputs!.instanceIds).toEqual(IDS);
        expect([...(fleet.outputs!.restartOwedInstanceIds as string[])].sort()).toEqual(owed.sort());
        expect(result.output).toMatch(/still need a restart for key pair "deploy": the next `pulumi up` restarts them/);

        const again = await stack.up();
        expect(again.code).toBe(0);
        expect(reboots()).toEqual(IDS.map(() => 1));
        const after = await stack.exportState();
        const done = after.deployment.resources!.find((r) => r.type === "alicloud-keypair:ecs:KeyPairAttachment")!;
        expect(done.outputs!.restartOwedInstanceIds ?? []).toEqual([]);
        await stack.up(["--expect-no-changes"]);
        await stack.destroy();
    });
});
