/**
 * A Go program on the Go SDK generated from schema.json, under the real CLI with the plugin against
 * an in-process emulator: preview, up, no-op up, refresh with drift, import, destroy. The SDK is
 * generated into a temp dir by the generator `pulumi package gen-sdk --language go` runs (built by
 * scripts/ensure-pulumi-go.sh with the Go language host), and the program is built by that host.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { startEmulator, type Emulator } from "../../emulator";
import { PulumiStack, REPO_ROOT, callsOf, describeUnavailable, describeWithCli, mutatingCalls } from "../e2e/harness";
import { ensurePluginBuilt, goTools, pluginStack } from "./harness";

jest.setTimeout(10 * 60_000);

const W = ["i-pluggo00001", "i-pluggo00002", "i-pluggo00003", "i-pluggo00004"];
const GO_SDK_MODULE = "github.com/pulumi-alicloud-keypair-attachment/sdk/go/alicloudkeypair";

const tools = goTools();
const goEnv = { ...process.env, GOWORK: "off", GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };

/** Generates the Go SDK and writes the program module (with a replace onto the SDK) into `dir`. */
export function prepareGoProgram(genSdk: string, dir: string): string {
    const sdk = path.join(dir, "sdk");
    execFileSync(genSdk, ["go", path.join(REPO_ROOT, "schema.json"), sdk]);
    const sdkModule = path.join(sdk, "alicloudkeypair");
    fs.writeFileSync(
        path.join(sdkModule, "go.mod"),
        `module ${GO_SDK_MODULE}\n\ngo 1.24\n\nrequire (\n\tgithub.com/blang/semver v3.5.1+incompatible\n\tgithub.com/pulumi/pulumi/sdk/v3 v3.248.0\n)\n`,
    );
    execFileSync("go", ["mod", "tidy"], { cwd: sdkModule, env: goEnv, stdio: "ignore" });
    const program = path.join(dir, "program");
    fs.mkdirSync(program);
    for (const file of ["main.go", "Pulumi.yaml"]) fs.copyFileSync(path.join(__dirname, "fixtures", "go", file), path.join(program, file));
    fs.writeFileSync(
        path.join(program, "go.mod"),
        `module kpa-plugin-go\n\ngo 1.24\n\nrequire (\n\t${GO_SDK_MODULE} v0.0.0\n\tgithub.com/pulumi/pulumi/sdk/v3 v3.248.0\n)\n\nreplace ${GO_SDK_MODULE} => ../sdk/alicloudkeypair\n`,
    );
    execFileSync("go", ["mod", "tidy"], { cwd: program, env: goEnv, stdio: "ignore" });
    // Compiled once here (minutes the first time), so that each CLI command only relinks.
    execFileSync("go", ["build", "-o", path.join(dir, "kpa-plugin-go"), "."], { cwd: program, env: goEnv, stdio: "ignore" });
    return program;
}

function body({ binDir, toolsDir }: { binDir: string; toolsDir: string }) {
    let emulator: Emulator;
    let work: string;
    let stack: PulumiStack;
    const key = (id: string) => emulator.model.instance(id)!.keyPairName;
    const attachment = async (name: string) =>
        (await stack.exportState()).deployment.resources!.find(
            (r) => r.urn.endsWith(`::${name}`) && r.type === "alicloud-keypair:ecs:KeyPairAttachment",
        );

    beforeAll(async () => {
        ensurePluginBuilt();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-plugin-go-"));
        const program = prepareGoProgram(path.join(toolsDir, "pulumi-gen-sdk"), work);
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05,
            seed: {
                accessKeys: [{ accessKeyId: "plugin-e2e-key", accessKeySecret: "plugin-e2e-secret" }],
                keyPairs: [{ name: "deploy" }, { name: "ops-2026" }],
                instances: [
                    { id: W[0], name: "go-1" },
                    { id: W[1], name: "go-2" },
                    { id: W[2], name: "go-3", keyPairName: "ops-2026" },
                    { id: W[3], name: "go-4", keyPairName: "ops-2026" },
                ],
            },
        });
        stack = await pluginStack(binDir, toolsDir, program, "plugin-go", emulator);
        stack.env.GOWORK = "off";
        stack.env.GOFLAGS = "-mod=mod";
        await stack.setConfig("keyPairName", "deploy");
        await stack.setConfigObject("instanceIds", [W[0], W[1]]);
    });

    afterAll(async () => {
        if (process.env.KPA_E2E_KEEP !== "1") {
            stack?.remove();
            if (work) fs.rmSync(work, { recursive: true, force: true });
        }
        await emulator?.close();
    });

    it("1. preview shows the create and changes nothing", async () => {
        emulator.resetCalls();
        const preview = await stack.preview();
        expect(preview.output).toMatch(/\+\s+alicloud-keypair:ecs:KeyPairAttachment fleet create/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("2. up binds and restarts; a second up is a no-op", async () => {
        await stack.up();
        expect([key(W[0]), key(W[1])]).toEqual(["deploy", "deploy"]);
        expect(callsOf(emulator.calls, "RebootInstances").length + callsOf(emulator.calls, "RebootInstance").length).toBe(2);
        const outputs = (await stack.outputs()) as unknown as { bound: string[]; replaced: Record<string, string> };
        expect(outputs).toEqual({ bound: [W[0], W[1]], replaced: {} });
        emulator.resetCalls();
        await stack.up(["--expect-no-changes"]);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("3. refresh records drift; the next up binds the instance again", async () => {
        emulator.model.detachKeyPair(W[1]);
        await stack.refresh();
        expect((await attachment("fleet"))!.outputs!.instanceIds).toEqual([W[0]]);
        await stack.up();
        expect(key(W[1])).toBe("deploy");
    });

    it("4. import adopts every holder of a key pair; declared the same way, the next up is a no-op", async () => {
        // No generated Go code: the Go host built here (sdk v3.60.0) has no GenerateProgram ("unknown
        // method GenerateProgram for service pulumirpc.LanguageRuntime"); the YAML test checks generated code.
        await stack.pulumi(
            ["import", "alicloud-keypair:ecs:KeyPairAttachment", "adopted", "cn-hangzhou/ops-2026", "--yes", "--generate-code=false"],
            {
                withConfig: true,
            },
        );
        expect((await attachment("adopted"))!.outputs!.instanceIds).toEqual([W[2], W[3]]);
        await stack.setConfig("adoptedKeyPairName", "ops-2026");
        await stack.setConfigObject("adoptedIds", [W[3], W[2]]);
        emulator.resetCalls();
        await stack.up(["--expect-no-changes"]);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("5. destroy unbinds everything", async () => {
        await stack.pulumi(["state", "unprotect", "--all", "--yes"]);
        await stack.destroy();
        expect(W.map(key)).toEqual([undefined, undefined, undefined, undefined]);
    });
}

if (tools.ok) {
    describeWithCli("a Go program on the generated Go SDK, with the provider plugin", ({ binDir }) =>
        body({ binDir, toolsDir: tools.dir }),
    );
} else {
    describeUnavailable(
        "a Go program on the generated Go SDK, with the provider plugin",
        `scripts/ensure-pulumi-go.sh failed: ${tools.reason}`,
    );
}
