/**
 * A TypeScript program on the TypeScript SDK generated from schema.json (not the dynamic resource),
 * under the real CLI with the plugin against an in-process emulator: preview, up, no-op up, destroy.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { startEmulator, type Emulator } from "../../emulator";
import { PulumiStack, REPO_ROOT, describeUnavailable, describeWithCli, mutatingCalls } from "../e2e/harness";
import { buildNodeSdk, ensurePluginBuilt, goTools, pluginStack } from "./harness";

jest.setTimeout(5 * 60_000);

const W = ["i-plugts00001", "i-plugts00002"];
const PASSWORD = "Ts-Unbind-2026!";
const tools = goTools();

/** The program (inline: the SDK it imports exists only once generated, so it cannot be type-checked with the repository). */
const PROGRAM = `// A TypeScript program on the TypeScript SDK generated from schema.json (tests/plugin/typescript.test.ts).
import * as pulumi from "@pulumi/pulumi";
import * as alicloudKeypair from "@pulumi-alicloud-keypair/sdk";

const config = new pulumi.Config();
const fleet = new alicloudKeypair.ecs.KeyPairAttachment("fleet", {
    keyPairName: config.require("keyPairName"),
    instanceIds: config.requireObject<string[]>("instanceIds"),
    restart: { batchSize: 1, pollIntervalSeconds: 0.05 },
    passwordOnUnbind: config.getSecret("passwordOnUnbind"),
});

export const bound = fleet.instanceIds;
export const replaced = fleet.replacedKeyPairs;
`;
const PROJECT = `name: kpa-plugin-typescript
runtime: nodejs
description: A TypeScript program on the TypeScript SDK generated from schema.json (tests/plugin/typescript.test.ts).
`;

function body({ binDir, toolsDir }: { binDir: string; toolsDir: string }) {
    let emulator: Emulator;
    let work: string;
    let stack: PulumiStack;
    const key = (id: string) => emulator.model.instance(id)!.keyPairName;

    beforeAll(async () => {
        ensurePluginBuilt();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-plugin-ts-"));
        const sdk = buildNodeSdk(path.join(toolsDir, "pulumi-gen-sdk"), path.join(work, "sdk"));
        const program = path.join(work, "program");
        fs.mkdirSync(path.join(program, "node_modules", "@pulumi"), { recursive: true });
        fs.mkdirSync(path.join(program, "node_modules", "@pulumi-alicloud-keypair"), { recursive: true });
        fs.writeFileSync(path.join(program, "index.ts"), PROGRAM);
        fs.writeFileSync(path.join(program, "Pulumi.yaml"), PROJECT);
        fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "kpa-plugin-typescript", main: "index.ts" }));
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"), path.join(program, "node_modules", "@pulumi", "pulumi"));
        fs.symlinkSync(sdk, path.join(program, "node_modules", "@pulumi-alicloud-keypair", "sdk"));
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05,
            seed: {
                accessKeys: [{ accessKeyId: "plugin-e2e-key", accessKeySecret: "plugin-e2e-secret" }],
                keyPairs: [{ name: "deploy" }],
                instances: W.map((id, i) => ({ id, name: `ts-${i + 1}` })),
            },
        });
        stack = await pluginStack(binDir, toolsDir, program, "plugin-ts", emulator);
        await stack.setConfig("keyPairName", "deploy");
        await stack.setConfigObject("instanceIds", W);
        await stack.setConfig("passwordOnUnbind", PASSWORD, { secret: true });
    });

    afterAll(async () => {
        if (process.env.KPA_E2E_KEEP !== "1") {
            stack?.remove();
            if (work) fs.rmSync(work, { recursive: true, force: true });
        }
        await emulator?.close();
    });

    it("previews, binds, is a no-op the second time, and destroys — through the plugin, not the dynamic host", async () => {
        const preview = await stack.preview();
        expect(preview.output).toMatch(/\+\s+alicloud-keypair:ecs:KeyPairAttachment fleet create/);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        await stack.up();
        expect(W.map(key)).toEqual(["deploy", "deploy"]);
        expect(await stack.outputs()).toMatchObject({ bound: W, replaced: {} });
        emulator.resetCalls();
        await stack.up(["--expect-no-changes"]);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(stack.backendText()).not.toContain(PASSWORD);
        await stack.destroy();
        expect(W.map(key)).toEqual([undefined, undefined]);
        expect(W.map((id) => emulator.model.instance(id)!.password)).toEqual([PASSWORD, PASSWORD]);
    });
}

if (tools.ok) {
    describeWithCli("a TypeScript program on the generated TypeScript SDK, with the provider plugin", ({ binDir }) =>
        body({ binDir, toolsDir: tools.dir }),
    );
} else {
    describeUnavailable(
        "a TypeScript program on the generated TypeScript SDK, with the provider plugin",
        `scripts/ensure-pulumi-go.sh failed: ${tools.reason}`,
    );
}
