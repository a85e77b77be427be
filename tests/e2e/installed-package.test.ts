/**
 * The package as a user installs it (DESIGN §8 layer 4): `npm pack`, then `npm install <tarball>
 * @pulumi/pulumi@<the SDK under test> typescript` into a fresh Pulumi TypeScript project in a temp
 * dir (no `file:` link, nothing resolved from this repository), the emulator started from the
 * installed package's own `ecs-emulator` bin with the seed shipped in the package (`--seed demo`),
 * and preview → up → `preview --refresh --expect-no-changes` → destroy under the real CLI.
 *
 * The same file checks what the tarball holds (no tests, no TypeScript sources, no source maps) and
 * that a consumer type-checks against the installed types with `moduleResolution` node16 and bundler.
 * It runs on both pairings (docs/compatibility.md): the SDK installed is the one this checkout uses.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

import { E2E_TIMEOUT_MS, PulumiStack, REPO_ROOT, attachmentLines, describeWithCli, ensureBuiltAndLinked } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const run = promisify(execFile);
const PACKAGE_NAME = "pulumi-alicloud-keypair-attachment";
// The @pulumi/pulumi of the pairing under test (3.276.0 by default; the peer floor in scripts/test-floor.sh).
const SDK_VERSION = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as { version: string }).version;
const TYPESCRIPT_VERSION = (JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")) as { version: string }).version;
// From emulator/seed.example.json, the seed shipped in the package.
const DEMO_KEY = { accessKeyId: "demo-access-key", accessKeySecret: "demo-access-secret" };
const INSTANCES = ["i-bp1web0003", "i-bp1batch001"];

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { KeyPairAttachment } from "${PACKAGE_NAME}";

const config = new pulumi.Config();
const attachment = new KeyPairAttachment("fleet-key", {
    keyPairName: config.require("keyPairName"),
    instanceIds: config.requireObject<string[]>("instanceIds"),
    restart: { pollIntervalSeconds: 0.1 },
});
export const boundInstanceIds = attachment.instanceIds;
export const pendingRestartInstanceIds = attachment.pendingRestartInstanceIds;
`;

/** Imports every entry point the package exports, so that each one must resolve with its types. */
const CONSUMER = `import { KeyPairAttachment, type KeyPairAttachmentArgs } from "${PACKAGE_NAME}";
import { startEmulator, type Emulator } from "${PACKAGE_NAME}/emulator";
import * as lifecycle from "${PACKAGE_NAME}/lifecycle";

const args: KeyPairAttachmentArgs = { keyPairName: "ops-2027", instanceIds: ["i-1"] };
export const made: KeyPairAttachment = new KeyPairAttachment("k", args);
export const started: Promise<Emulator> = startEmulator({ port: 0 });
export const hooks: typeof lifecycle.create = lifecycle.create;
`;

interface PackedFile {
    path: string;
}

async function npm(args: string[], cwd: string): Promise<string> {
    const { stdout } = await run("npm", args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 3 * 60_000 });
    return stdout;
}

describeWithCli("the packed package installed into a fresh Pulumi TypeScript project", ({ binDir }) => {
    let tempDir: string;
    let projectDir: string;
    let packed: PackedFile[];
    let emulatorProcess: ChildProcess | undefined;
    let emulatorUrl: string;
    let stack: PulumiStack | undefined;

    const emulatorState = async (): Promise<{ instances: { id: string; keyPairName?: string }[] }> => {
        const response = await fetch(`${emulatorUrl}/_emulator/state`);
        return (await response.json()) as { instances: { id: string; keyPairName?: string }[] };
    };
    const keyOf = async (id: string) => (await emulatorState()).instances.find((i) => i.id === id)?.keyPairName;

    beforeAll(async () => {
        ensureBuiltAndLinked();
        tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-installed-"));
        projectDir = path.join(tempDir, "project");
        fs.mkdirSync(projectDir);

        // The scripts already ran (dist/ is built and checked above): pack exactly what is published.
        const [pack] = JSON.parse(await npm(["pack", "--json", "--ignore-scripts", "--pack-destination", tempDir], REPO_ROOT)) as {
            filename: string;
            files: PackedFile[];
        }[];
        packed = pack.files;
        const tarball = path.join(tempDir, pack.filename);

        fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: installed-package\nruntime: nodejs\nmain: index.ts\n");
        fs.writeFileSync(
            path.join(projectDir, "package.json"),
            JSON.stringify({ name: "installed-package-project", private: true, main: "index.ts" }, null, 4),
        );
        fs.writeFileSync(
            path.join(projectDir, "tsconfig.json"),
            JSON.stringify({
                compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", skipLibCheck: true },
                files: ["index.ts"],
            }),
        );
        fs.writeFileSync(path.join(projectDir, "index.ts"), PROGRAM);
        await npm(
            [
                "install",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                tarball,
                `@pulumi/pulumi@${SDK_VERSION}`,
                `typescript@${TYPESCRIPT_VERSION}`,
            ],
            projectDir,
        );

        // The emulator from the installed package's own bin, with the seed the package ships.
        emulatorProcess = spawn(
            path.join(projectDir, "node_modules", ".bin", "ecs-emulator"),
            ["--port", "0", "--seed", "demo", "--time-scale", "0.05"],
            {
                cwd: projectDir,
                stdio: ["ignore", "pipe", "inherit"],
            },
        );
        const child = emulatorProcess;
        emulatorUrl = await new Promise<string>((resolve, reject) => {
            const lines = createInterface({ input: child.stdout! });
            lines.on("line", (line) => {
                const match = /^ecs-emulator listening on (http:\/\/\S+)$/.exec(line);
                if (match) resolve(match[1]);
            });
            child.once("exit", (code) => reject(new Error(`the installed ecs-emulator exited with ${code} before listening`)));
        });

        stack = new PulumiStack(binDir, projectDir, "installed");
        await stack.init();
        await stack.setConfigs({
            "alicloud:region": "cn-hangzhou",
            "alicloud:accessKey": DEMO_KEY.accessKeyId,
            "alicloud:secretKey": DEMO_KEY.accessKeySecret,
            "alicloud:endpoints": [{ ecs: emulatorUrl }],
            keyPairName: "ops-2027",
            instanceIds: INSTANCES,
        });
    });

    afterAll(() => {
        emulatorProcess?.kill("SIGKILL");
        stack?.remove();
        if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    });

    it("the tarball holds the built package, its types, the demo seed and the docs, and no tests, sources or maps", () => {
        const paths = packed.map((f) => f.path).sort();
        for (const required of [
            "package.json",
            "README.md",
            "LICENSE",
            "CHANGELOG.md",
            "emulator/seed.example.json",
            "dist/provider/index.js",
            "dist/provider/index.d.ts",
            "dist/provider/lifecycle.js",
            "dist/provider/lifecycle.d.ts",
            "dist/emulator/cli.js",
            "dist/emulator/index.d.ts",
        ])
            expect(paths).toContain(required);
        const unexpected = paths.filter(
            (p) =>
                !["package.json", "README.md", "LICENSE", "CHANGELOG.md", "emulator/seed.example.json"].includes(p) &&
                !/^dist\/(provider|emulator)\/.+\.(js|d\.ts)$/.test(p),
        );
        expect(unexpected).toEqual([]);
    });

    it("the installed package resolves from the project, not from this repository", () => {
        const resolved = fs.realpathSync(require.resolve(PACKAGE_NAME, { paths: [projectDir] }));
        expect(resolved.startsWith(fs.realpathSync(projectDir) + path.sep)).toBe(true);
        const sdk = JSON.parse(fs.readFileSync(path.join(projectDir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as {
            version: string;
        };
        expect(sdk.version).toBe(SDK_VERSION);
    });

    it.each([
        ["node16", { module: "node16", moduleResolution: "node16" }],
        ["bundler", { module: "esnext", moduleResolution: "bundler" }],
    ])("a consumer type-checks against the installed types with moduleResolution %s", async (name, options) => {
        const dir = path.join(projectDir, `consumer-${name}`);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, "consumer.ts"), CONSUMER);
        const tsconfig = {
            compilerOptions: { ...options, target: "ES2022", strict: true, noEmit: true, types: [] },
            files: ["consumer.ts"],
        };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
        const tsc = path.join(projectDir, "node_modules", "typescript", "bin", "tsc");
        // skipLibCheck stays off: the package's own .d.ts files are checked too.
        await expect(run(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json")], { cwd: dir })).resolves.toBeDefined();
    });

    it("an up against an endpoint nobody listens on fails saying what is wrong and how to fix it, changing nothing", async () => {
        const s = stack!;
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        await s.setConfigObject("alicloud:endpoints", [{ ecs: url }]);
        try {
            const failed = await s.up([], { allowFailure: true });
            expect(failed.code).not.toBe(0);
            const oneLine = failed.output.replace(/\s*\n\s*/g, " ");
            expect(oneLine).toContain(`Cannot reach the ECS endpoint ${url} (ECONNREFUSED), taken from stack config alicloud:endpoints`);
            expect(oneLine).toContain("`npx ecs-emulator --port 8080 --seed demo`");
        } finally {
            await s.setConfigObject("alicloud:endpoints", [{ ecs: emulatorUrl }]);
        }
        expect(await keyOf(INSTANCES[0])).toBeUndefined();
    });

    it("preview, up, preview --refresh --expect-no-changes and destroy work against the installed ecs-emulator", async () => {
        const s = stack!;
        const preview = await s.preview();
        expect(attachmentLines(preview.output).some((l) => /^\s*\+\s.*KeyPairAttachment fleet-key create/.test(l))).toBe(true);
        expect(await keyOf(INSTANCES[0])).toBeUndefined(); // a preview changes nothing

        await s.up();
        const outputs = await s.outputs();
        expect([...(outputs.boundInstanceIds as string[])].sort()).toEqual([...INSTANCES].sort());
        expect(outputs.pendingRestartInstanceIds).toEqual(["i-bp1batch001"]); // stopped in the seed: never started by us
        expect(await keyOf(INSTANCES[0])).toBe("ops-2027");
        expect(await keyOf(INSTANCES[1])).toBe("ops-2027");

        const refreshed = await s.preview(["--refresh", "--expect-no-changes"]);
        expect(refreshed.code).toBe(0);

        await s.destroy();
        expect(await keyOf(INSTANCES[0])).toBeUndefined();
        expect(await keyOf(INSTANCES[1])).toBeUndefined();
    });
});
