/**
 * The provider plugin under the real Pulumi CLI: the plugin folder built by `npm run build:plugin`
 * and installed the documented way (`pulumi plugin install resource alicloud-keypair <version>
 * --file dist/plugin-bin`) into the stack's private PULUMI_HOME, the YAML language host built by
 * scripts/ensure-pulumi-yaml.sh, and a YAML project written into a temp dir.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Emulator } from "../../emulator";
import { PulumiStack, REPO_ROOT, describeUnavailable, describeWithCli } from "../e2e/harness";

export const PLUGIN_DIR = path.join(REPO_ROOT, "dist", "plugin-bin");
export const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

function newestMtime(dir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
    }
    return newest;
}

/** Runs `npm run build:plugin` unless dist/plugin-bin is newer than every source it is built from. */
export function ensurePluginBuilt(): void {
    const shim = path.join(PLUGIN_DIR, "pulumi-resource-alicloud-keypair");
    const sources = Math.max(
        newestMtime(path.join(REPO_ROOT, "plugin")),
        newestMtime(path.join(REPO_ROOT, "provider")),
        fs.statSync(path.join(REPO_ROOT, "schema.json")).mtimeMs,
    );
    if (fs.existsSync(shim) && fs.statSync(path.join(REPO_ROOT, "dist", "plugin", "main.js")).mtimeMs >= sources) return;
    execFileSync("npm", ["run", "build:plugin"], { cwd: REPO_ROOT, stdio: "ignore" });
}

let yamlBin: { ok: true; dir: string } | { ok: false; reason: string } | undefined;

export function ensureYamlHost(): typeof yamlBin & object {
    if (yamlBin) return yamlBin;
    try {
        const out = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi-yaml.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 30 * 60_000,
        });
        yamlBin = { ok: true, dir: out.trim().split("\n").pop() ?? "" };
    } catch (error) {
        yamlBin = { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
    return yamlBin;
}

/** describeWithCli, also needing the YAML language host (skipped with the reason when it cannot be built). */
export function describeWithYaml(name: string, body: (cli: { binDir: string; yamlDir: string }) => void): void {
    const yaml = ensureYamlHost();
    if (!yaml.ok) return describeUnavailable(name, `the YAML language host could not be built: ${yaml.reason}`);
    describeWithCli(name, ({ binDir }) => body({ binDir, yamlDir: yaml.dir }));
}

/** A temp project dir holding `Pulumi.yaml` (rewritten by `write`); removed by `remove`. */
export class YamlProject {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-plugin-yaml-"));
    constructor(text: string) {
        this.write(text);
    }
    write(text: string): void {
        fs.writeFileSync(path.join(this.dir, "Pulumi.yaml"), text);
    }
    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** A stack of a project dir, with the YAML host on PATH and the plugin installed from dist/plugin-bin. */
/**
 * `install`: false when the project names the plugin folder in Pulumi.yaml (`plugins.providers`), the
 * other documented way; then nothing is installed into PULUMI_HOME.
 */
export async function pluginStack(
    binDir: string,
    yamlDir: string,
    projectDir: string,
    name: string,
    emulator: Emulator,
    { install = true }: { install?: boolean } = {},
): Promise<PulumiStack> {
    const stack = new PulumiStack(binDir, projectDir, name);
    stack.env.PATH = `${binDir}${path.delimiter}${yamlDir}${path.delimiter}${process.env.PATH ?? ""}`;
    if (install) await stack.exec(["plugin", "install", "resource", "alicloud-keypair", VERSION, "--file", PLUGIN_DIR]);
    await stack.init();
    await stack.setConfig("alicloud-keypair:region", "cn-hangzhou");
    await stack.setConfig("alicloud-keypair:accessKey", "plugin-e2e-key");
    await stack.setConfig("alicloud-keypair:secretKey", "plugin-e2e-secret", { secret: true });
    await stack.setConfig("alicloud-keypair:endpoints", JSON.stringify([{ ecs: emulator.url }]));
    return stack;
}

/** The Diagnostics section of a CLI run (where warnings are listed once per resource). */
export function diagnostics(output: string): string {
    const start = output.indexOf("Diagnostics:");
    if (start < 0) return "";
    const end = output.search(/\n(Outputs|Resources):\n/);
    return output.slice(start, end > start ? end : undefined);
}

export function count(text: string, pattern: RegExp): number {
    return (text.match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g")) ?? []).length;
}

/** The bin dir of scripts/ensure-pulumi-go.sh (pulumi-gen-sdk, pulumi-language-go), or why it failed. */
export function goTools(): { ok: true; dir: string } | { ok: false; reason: string } {
    try {
        const out = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi-go.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 30 * 60_000,
        });
        return { ok: true, dir: out.trim().split("\n").pop() ?? "" };
    } catch (error) {
        return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
}

/**
 * Generates the TypeScript SDK into `dir`, builds it with this repository's TypeScript against its
 * @pulumi/pulumi, and returns the built package (bin/, with its package.json, as Pulumi publishes SDKs).
 */
export function buildNodeSdk(genSdk: string, dir: string): string {
    execFileSync(genSdk, ["nodejs", path.join(REPO_ROOT, "schema.json"), dir]);
    fs.mkdirSync(path.join(dir, "node_modules", "@pulumi"), { recursive: true });
    fs.mkdirSync(path.join(dir, "node_modules", "@types"), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"), path.join(dir, "node_modules", "@pulumi", "pulumi"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@types", "node"), path.join(dir, "node_modules", "@types", "node"));
    execFileSync(
        process.execPath,
        [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(dir, "tsconfig.json")],
        {
            stdio: "pipe",
        },
    );
    // utilities.ts reads the package version from the package.json next to it.
    fs.copyFileSync(path.join(dir, "package.json"), path.join(dir, "bin", "package.json"));
    return path.join(dir, "bin");
}
