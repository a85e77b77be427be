/**
 * A Pulumi YAML program using the provider plugin, under the real CLI against an in-process
 * emulator: preview, up (warnings once, progress as status), no-op up, preview --diff (set
 * semantics, restart forecast), refresh with drift, import (all holders; listed ids; a wrong id),
 * destroy. The plugin is installed the documented way (harness.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { startEmulator, type Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, mutatingCalls } from "../e2e/harness";
import { YamlProject, count, describeWithYaml, diagnostics, ensurePluginBuilt, pluginStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const W = ["i-plugweb0001", "i-plugweb0002", "i-plugweb0003", "i-plugweb0004", "i-plugweb0005"];
const PASSWORD = "Unbind-Pass-2026!";

function program(instanceIds: string[], extra = ""): string {
    return `name: kpa-plugin-yaml
runtime: yaml
resources:
  fleet:
    type: alicloud-keypair:ecs:KeyPairAttachment
    properties:
      keyPairName: deploy
      instanceIds: [${instanceIds.join(", ")}]
      passwordOnUnbind: "${PASSWORD}"
      restart:
        batchSize: 1
        pollIntervalSeconds: 0.05
${extra}outputs:
  bound: \${fleet.instanceIds}
  replaced: \${fleet.replacedKeyPairs}
`;
}

describeWithYaml("a YAML program with the alicloud-keypair provider plugin", ({ binDir, yamlDir }) => {
    let emulator: Emulator;
    let project: YamlProject;
    let stack: PulumiStack;
    const key = (id: string) => emulator.model.instance(id)!.keyPairName;
    const reboots = (id: string) => emulator.model.instance(id)!.rebootCount;

    beforeAll(async () => {
        ensurePluginBuilt();
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05,
            seed: {
                accessKeys: [{ accessKeyId: "plugin-e2e-key", accessKeySecret: "plugin-e2e-secret" }],
                keyPairs: [{ name: "deploy" }, { name: "old-key" }, { name: "ops-2026" }],
                instances: [
                    { id: W[0], name: "web-1", keyPairName: "ops-2026" },
                    { id: W[1], name: "web-2", keyPairName: "ops-2026" },
                    { id: W[2], name: "web-3", keyPairName: "old-key" },
                    { id: W[3], name: "web-4" },
                    { id: W[4], name: "web-5" },
                ],
            },
        });
        project = new YamlProject(program([W[2], W[3]]));
        stack = await pluginStack(binDir, yamlDir, project.dir, "plugin-yaml", emulator);
    });

    afterAll(async () => {
        if (process.env.KPA_E2E_KEEP !== "1") {
            stack?.remove();
            project?.remove();
        }
        await emulator?.close();
    });

    it("1. preview shows the create with the package's token and changes nothing", async () => {
        emulator.resetCalls();
        const preview = await stack.preview();
        expect(preview.output).toMatch(/\+\s+alicloud-keypair:ecs:KeyPairAttachment fleet create/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("2. up binds and restarts wave by wave, with progress as status and each warning once, on the resource", async () => {
        const up = await stack.up();
        expect([key(W[2]), key(W[3])]).toEqual(["deploy", "deploy"]);
        expect([reboots(W[2]), reboots(W[3])]).toEqual([1, 1]);
        expect(callsOf(emulator.calls, "RebootInstances").length + callsOf(emulator.calls, "RebootInstance").length).toBe(2);
        // Ephemeral status of the resource while the waves run.
        expect(up.output).toMatch(/fleet creating \(\d+s\) restart wave 1: restarting i-plugweb000[34]/);
        expect(up.output).toMatch(/restart wave 2: restarting/);
        // The warning, attached to the resource, listed once.
        const diag = diagnostics(up.output);
        expect(diag).toMatch(/alicloud-keypair:ecs:KeyPairAttachment \(fleet\):/);
        expect(count(diag, /warning: Binding "deploy" replaced another key pair on i-plugweb0003 \(was "old-key"\)/)).toBe(1);
        // passwordOnUnbind is a secret in the state although the program passed it in plain text.
        expect(stack.backendText()).not.toContain(PASSWORD);
        // Nor the provider's secretKey (a secret config key of the schema), nor in anything the CLI printed.
        expect(stack.backendText()).not.toContain("plugin-e2e-secret");
        expect(stack.outputsSeen().join("\n")).not.toContain("plugin-e2e-secret");
        const state = await stack.exportState();
        const fleet = state.deployment.resources!.find((r) => r.type === "alicloud-keypair:ecs:KeyPairAttachment")!;
        expect(fleet.outputs!.passwordOnUnbind).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
    });

    it("3. a second up is a no-op: no ECS change, no warning repeated", async () => {
        emulator.resetCalls();
        const up = await stack.up(["--expect-no-changes"]);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(up.output).not.toMatch(/warning: Binding/);
    });

    it("4. preview --diff lists exactly the added and removed ids and what restarts; a reorder is no change", async () => {
        // Recorded: [i-plugweb0003, i-plugweb0004]; wanted: {i-plugweb0004, i-plugweb0005}.
        project.write(program([W[3], W[4]]));
        emulator.resetCalls();
        const preview = await stack.preview(["--diff"]);
        expect(preview.output).toMatch(/~ instanceIds: \[/);
        expect(preview.output).toMatch(/\+ \[1\]: "i-plugweb0005"/);
        expect(preview.output).toMatch(/- \[0\]: "i-plugweb0003"/);
        expect(preview.output).not.toMatch(/cancel received/);
        expect(preview.output).toMatch(/instanceIds: adds i-plugweb0005; removes i-plugweb0003\./);
        expect(preview.output).not.toMatch(/[+-]\s*\[\d\]: "i-plugweb0004"/);
        expect(preview.output).toMatch(
            /This update restarts the instances among these that are Running: i-plugweb0005 \(newly bound\); i-plugweb0003 \(unbound, new password, graceful\) — in waves of 1\./,
        );
        expect(mutatingCalls(emulator.calls)).toEqual([]);

        project.write(program([W[3], W[2]]));
        await stack.preview(["--expect-no-changes"]);
    });

    it("5. refresh records drift (an instance unbound outside Pulumi); the next up binds it again", async () => {
        project.write(program([W[3], W[2]]));
        emulator.model.detachKeyPair(W[3]);
        const refresh = await stack.refresh();
        expect(refresh.output).not.toMatch(/This update restarts/);
        const state = await stack.exportState();
        const fleet = state.deployment.resources!.find((r) => r.type === "alicloud-keypair:ecs:KeyPairAttachment")!;
        expect(fleet.outputs!.instanceIds).toEqual([W[2]]);
        // With its preview this time (the other ups skip it): the plugin process of the preview is not the update's.
        const up = await stack.pulumi(["up", "--yes"], { withConfig: true });
        expect(up.output).toMatch(/restart wave 1: restarting i-plugweb0004/);
        expect(key(W[3])).toBe("deploy");
        expect(up.output).toMatch(/~ 1 updated|1 updated/);
        await stack.up(["--expect-no-changes"]);
    });

    it("6. import adopts every holder of a key pair; the generated code makes the next up a no-op", async () => {
        const out = path.join(stack.tempDir, "imported.yaml");
        emulator.resetCalls();
        await stack.pulumi(["import", "alicloud-keypair:ecs:KeyPairAttachment", "adopted", "cn-hangzhou/ops-2026", "--yes", "--out", out], {
            withConfig: true,
        });
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        const generated = fs.readFileSync(out, "utf8");
        expect(generated).toMatch(/type: alicloud-keypair:ecs:KeyPairAttachment/);
        expect(generated).toMatch(/keyPairName: ops-2026/);
        expect(generated).toMatch(/i-plugweb0001/);
        expect(generated).toMatch(/i-plugweb0002/);
        const state = await stack.exportState();
        const adopted = state.deployment.resources!.find((r) => r.urn.endsWith("::adopted"))!;
        expect(adopted.id).toBe("cn-hangzhou/ops-2026");
        expect(adopted.outputs!.instanceIds).toEqual([W[0], W[1]]);
        // The generated resource, pasted into the program.
        const resource = generated.slice(generated.indexOf("resources:") + "resources:\n".length);
        project.write(program([W[3], W[2]], resource));
        emulator.resetCalls();
        await stack.up(["--expect-no-changes"]);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("7. import of listed ids needs each to hold the key, else a clear error and nothing imported", async () => {
        const failed = await stack.pulumi(
            ["import", "alicloud-keypair:ecs:KeyPairAttachment", "wrong", `cn-hangzhou/ops-2026/${W[0]},${W[4]}`, "--yes"],
            { withConfig: true, allowFailure: true },
        );
        expect(failed.code).not.toBe(0);
        expect(failed.output).toMatch(/do not hold key pair "ops-2026" in cn-hangzhou: i-plugweb0005 \(holds no key pair\)/);
        const state = await stack.exportState();
        expect(state.deployment.resources!.some((r) => r.urn.endsWith("::wrong"))).toBe(false);

        const listed = path.join(stack.tempDir, "listed.yaml");
        await stack.pulumi(
            ["import", "alicloud-keypair:ecs:KeyPairAttachment", "listed", `cn-hangzhou/ops-2026/${W[1]}`, "--yes", "--out", listed],
            {
                withConfig: true,
            },
        );
        const after = await stack.exportState();
        expect(after.deployment.resources!.find((r) => r.urn.endsWith("::listed"))!.outputs!.instanceIds).toEqual([W[1]]);
        // Not in the program: the next up deletes it (unbinding W[1], which `adopted` then rebinds is not
        // this test's business) — so forget it from the state instead.
        await stack.pulumi([
            "state",
            "delete",
            after.deployment.resources!.find((r) => r.urn.endsWith("::listed"))!.urn,
            "--yes",
            "--force",
        ]);
    });

    it("8. destroy unbinds every instance of both resources", async () => {
        // pulumi import protects what it adopts.
        await stack.pulumi(["state", "unprotect", "--all", "--yes"]);
        const destroy = await stack.destroy();
        expect(W.map(key)).toEqual([undefined, undefined, undefined, undefined, undefined]);
        // `adopted` has no passwordOnUnbind: its instances need a password reset — a warning on it, once.
        const diag = diagnostics(destroy.output);
        expect(
            count(
                diag,
                /warning: KeyPairAttachment cn-hangzhou\/ops-2026: unbound key pair "ops-2026" from i-plugweb0001, i-plugweb0002\. Reset the password/,
            ),
        ).toBe(1);
        const state = await stack.exportState();
        expect((state.deployment.resources ?? []).filter((r) => r.type === "alicloud-keypair:ecs:KeyPairAttachment")).toEqual([]);
    });
});
