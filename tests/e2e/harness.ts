/**
 * Real-engine harness (DESIGN §8 layer 4): the Pulumi CLI built by scripts/ensure-pulumi.sh, a local
 * file backend in a temp dir, an empty passphrase, no update check, and the examples of this
 * repository run against an emulator that the test starts in-process.
 *
 * Stack configuration files are kept in the temp dir (`--config-file`), so the example folders
 * stay clean and several stacks can run the same example at once.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { DEFAULT_ACCESS_KEY, startEmulator, type ApiCall, type Emulator, type EmulatorOptions } from "../../emulator";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const QUICKSTART_DIR = path.join(REPO_ROOT, "examples", "quickstart");
export const E2E_TIMEOUT_MS = 4 * 60_000;

/** API actions that change something in ECS: a preview or a no-op update must send none. */
export const MUTATING_ACTIONS = new Set([
    "AttachKeyPair",
    "DetachKeyPair",
    "RebootInstance",
    "RebootInstances",
    "StartInstance",
    "StartInstances",
    "StopInstance",
    "StopInstances",
    "ModifyInstanceAttribute",
    "RunCommand",
]);

export function mutatingCalls(calls: readonly ApiCall[]): ApiCall[] {
    return calls.filter((c) => MUTATING_ACTIONS.has(c.action));
}

export function callsOf(calls: readonly ApiCall[], action: string): ApiCall[] {
    return calls.filter((c) => c.action === action);
}

/** The quickstart's stack outputs (examples/quickstart/index.ts), as `pulumi stack output --json` prints them. */
export interface StackOutputs {
    keyPairName: string;
    region: string;
    boundInstanceIds: string[];
    restartedInstanceIds: string[];
    pendingRestartInstanceIds: string[];
    passwordResetRequiredInstanceIds: string[];
    replacedKeyPairs: Record<string, string>;
    passwordResetFailures: Record<string, string>;
}

/** The parts of `pulumi stack export` the tests read. */
export interface StackExport {
    deployment: {
        resources?: { type: string; urn: string; id?: string; outputs?: Record<string, unknown>; inputs?: Record<string, unknown> }[];
        pending_operations?: { type: string }[];
    };
}

export type CliStatus = { ok: true; binDir: string } | { ok: false; reason: string };

let cliStatus: CliStatus | undefined;

/**
 * Makes sure the pinned Pulumi CLI is built (cached after the first build, which takes ~5 min) and
 * returns its bin dir. Synchronous so that a test file can decide to skip at definition time.
 */
export function ensurePulumiCli(): CliStatus {
    if (cliStatus) return cliStatus;
    try {
        const stdout = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi.sh")], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 40 * 60_000,
        });
        const binDir = stdout.trim().split("\n").pop() ?? "";
        if (!fs.existsSync(path.join(binDir, "pulumi")))
            throw new Error(`ensure-pulumi.sh printed "${binDir}", which has no pulumi binary`);
        cliStatus = { ok: true, binDir };
    } catch (error) {
        cliStatus = { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
    return cliStatus;
}

/**
 * `describe`, or `describe.skip` with a clear message when the CLI cannot be built. With
 * `KPA_E2E_REQUIRED=1` (or `CI=true`) a missing CLI fails the suite instead of skipping it.
 */
export function describeWithCli(name: string, body: (cli: { binDir: string }) => void): void {
    const status = ensurePulumiCli();
    if (status.ok) {
        describe(name, () => body({ binDir: status.binDir }));
        return;
    }
    describeUnavailable(name, `End-to-end tests need the Pulumi CLI, which scripts/ensure-pulumi.sh could not build: ${status.reason}`);
}

/**
 * A suite whose tools could not be built: skipped with the reason on a developer's machine, a failing
 * test under `KPA_E2E_REQUIRED=1` (or `CI=true`), so that CI never passes by skipping.
 */
export function describeUnavailable(name: string, message: string): void {
    if (process.env.KPA_E2E_REQUIRED === "1" || process.env.CI === "true") {
        describe(name, () => {
            it("has the tools it needs", () => {
                throw new Error(message);
            });
        });
    } else {
        console.warn(`SKIPPED "${name}": ${message}`);
        describe.skip(name, () => undefined);
    }
}

/** The program resolves `pulumi-alicloud-keypair-attachment` from dist/ through this link. */
export function ensureBuiltAndLinked(): void {
    execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts", "link-self.js")], { cwd: REPO_ROOT, stdio: "ignore" });
    const built = path.join(REPO_ROOT, "dist", "provider", "lifecycle.js");
    if (!fs.existsSync(built))
        throw new Error("dist/ is missing: run `npm run build` (npm test and npm run test:e2e do) before the e2e tests");
    const newestSource = newestMtime(path.join(REPO_ROOT, "provider"));
    const newestBuild = newestMtime(path.join(REPO_ROOT, "dist", "provider"));
    if (newestSource > newestBuild + 1000) {
        throw new Error("dist/provider is older than provider/: run `npm run build` first (the real engine runs the built package)");
    }
}

function newestMtime(dir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
    }
    return newest;
}

export interface RunResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    /** stdout + stderr, for assertions on what a user sees. */
    output: string;
    ms: number;
}

export interface RunOptions {
    /** Resolve with a non-zero exit code instead of throwing. */
    allowFailure?: boolean;
    /** Called with the child as soon as it is spawned (for the interrupt scenario). */
    onSpawn?: (child: ChildProcess) => void;
    timeoutMs?: number;
}

/**
 * One stack in a temp file backend, running a project directory of this repository. Every
 * command gets `--non-interactive --color never`, and `--config-file` for the commands that read
 * stack configuration.
 */
export class PulumiStack {
    readonly tempDir: string;
    readonly backendDir: string;
    readonly homeDir: string;
    readonly configFile: string;
    readonly env: NodeJS.ProcessEnv;
    /** What each command printed, with the command line (which may carry a secret being set). */
    readonly log: string[] = [];
    private readonly printed: string[] = [];

    constructor(
        readonly binDir: string,
        readonly projectDir: string,
        readonly stackName: string,
    ) {
        this.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), `kpa-e2e-${stackName}-`));
        this.backendDir = path.join(this.tempDir, "backend");
        this.homeDir = path.join(this.tempDir, "pulumi-home");
        this.configFile = path.join(this.tempDir, "stub", `Pulumi.${stackName}.yaml`);
        fs.mkdirSync(this.backendDir);
        fs.mkdirSync(this.homeDir);
        this.env = pulumiEnv(binDir, this.backendDir, this.homeDir);
    }

    /**
     * Creates the stack. `pulumi stack init` writes the passphrase salt into a stack config file
     * next to Pulumi.yaml, so it runs in a stub project (a copy of Pulumi.yaml) in the temp dir; the
     * real project directory then uses that file through `--config-file`.
     */
    async init(): Promise<void> {
        const stub = path.dirname(this.configFile);
        fs.mkdirSync(stub);
        fs.copyFileSync(path.join(this.projectDir, "Pulumi.yaml"), path.join(stub, "Pulumi.yaml"));
        await this.exec(["stack", "init", this.stackName, "--secrets-provider", "passphrase"], { cwd: stub });
    }

    async setConfig(key: string, value: string, options: { path?: boolean; secret?: boolean } = {}): Promise<void> {
        const flags = [options.path ? "--path" : "", options.secret ? "--secret" : ""].filter(Boolean);
        await this.pulumi(["config", "set", ...flags, key, value], { withConfig: true });
    }

    /** A structured value (list or map), replacing the whole key: `pulumi config set-all --json`. */
    async setConfigObject(key: string, value: unknown): Promise<void> {
        const json = JSON.stringify({ [key]: { value: JSON.stringify(value), objectValue: value, secret: false } });
        await this.pulumi(["config", "set-all", "--json", json], { withConfig: true });
    }

    async setConfigs(entries: Record<string, unknown>): Promise<void> {
        for (const [key, value] of Object.entries(entries)) {
            if (typeof value === "string") await this.setConfig(key, value);
            else await this.setConfigObject(key, value);
        }
    }

    preview(args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
        return this.pulumi(["preview", ...args], { ...options, withConfig: true });
    }

    up(args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
        return this.pulumi(["up", "--yes", "--skip-preview", ...args], { ...options, withConfig: true });
    }

    refresh(args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
        return this.pulumi(["refresh", "--yes", "--skip-preview", ...args], { ...options, withConfig: true });
    }

    destroy(args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
        return this.pulumi(["destroy", "--yes", "--skip-preview", ...args], { ...options, withConfig: true });
    }

    async outputs(): Promise<StackOutputs> {
        const result = await this.pulumi(["stack", "output", "--json"]);
        return JSON.parse(result.stdout) as StackOutputs;
    }

    async exportState(): Promise<StackExport> {
        const result = await this.pulumi(["stack", "export"]);
        return JSON.parse(result.stdout) as StackExport;
    }

    pulumi(args: string[], options: RunOptions & { withConfig?: boolean } = {}): Promise<RunResult> {
        const full = [...args, "--stack", this.stackName, "--non-interactive", "--color", "never"];
        if (options.withConfig) full.push("--config-file", this.configFile);
        return this.exec(full, options);
    }

    exec(args: string[], options: RunOptions & { cwd?: string } = {}): Promise<RunResult> {
        const started = Date.now();
        return new Promise((resolve, reject) => {
            const child = spawn(path.join(this.binDir, "pulumi"), args, {
                cwd: options.cwd ?? this.projectDir,
                env: this.env,
                stdio: ["ignore", "pipe", "pipe"],
                // Its own process group, so that the plugins it starts can be cleaned up after a SIGKILL.
                detached: true,
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
            const timer = setTimeout(() => killGroup(child, "SIGKILL"), options.timeoutMs ?? 3 * 60_000);
            options.onSpawn?.(child);
            child.on("error", reject);
            child.on("close", (code, signal) => {
                clearTimeout(timer);
                const result: RunResult = { code, signal, stdout, stderr, output: stdout + stderr, ms: Date.now() - started };
                const entry = `$ pulumi ${args.join(" ")}  (exit ${code ?? signal}, ${result.ms} ms)\n${result.output}`;
                this.log.push(entry);
                this.printed.push(result.output);
                fs.appendFileSync(path.join(this.tempDir, "transcript.log"), entry + "\n");
                if (code !== 0 && !options.allowFailure) {
                    reject(new Error(`pulumi ${args.join(" ")} exited with ${code ?? signal}:\n${result.output}`));
                } else {
                    resolve(result);
                }
            });
        });
    }

    /** Everything the CLI printed so far (stdout and stderr of every command). */
    outputsSeen(): string[] {
        return [...this.printed];
    }

    /** Every state file the backend holds (current, backups, history), as one string. */
    backendText(): string {
        return readTree(this.backendDir);
    }

    remove(): void {
        fs.rmSync(this.tempDir, { recursive: true, force: true });
    }
}

/** Kills a child's whole process group (the CLI, its language host and plugins). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
        process.kill(-child.pid, signal);
    } catch {
        // already gone
    }
}

/**
 * The pids of a process's descendants (Linux /proc; empty elsewhere). Pulumi starts its plugins in
 * process groups of their own, so after a SIGKILL of the CLI they are found by parentage, recorded
 * before the kill (afterwards their parent is init).
 */
export function descendantPids(pid: number): number[] {
    let stats: { pid: number; ppid: number }[];
    try {
        stats = fs
            .readdirSync("/proc")
            .filter((name) => /^\d+$/.test(name))
            .flatMap((name) => {
                try {
                    const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
                    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
                    return [{ pid: Number(name), ppid }];
                } catch {
                    return [];
                }
            });
    } catch {
        return [];
    }
    const found: number[] = [];
    const queue = [pid];
    while (queue.length) {
        const parent = queue.shift()!;
        for (const s of stats) {
            if (s.ppid === parent) {
                found.push(s.pid);
                queue.push(s.pid);
            }
        }
    }
    return found;
}

function readTree(dir: string): string {
    let text = "";
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) text += readTree(full);
        else text += `\n--- ${full}\n` + fs.readFileSync(full).toString("utf8");
    }
    return text;
}

/**
 * The environment of every CLI run: the pinned CLI first on PATH, a private PULUMI_HOME, the file
 * backend, an empty passphrase, no update check, and no ambient Alibaba Cloud credentials (the stack
 * configuration is the only source, so the tests never reach a real account).
 */
export function pulumiEnv(binDir: string, backendDir: string, homeDir: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
        if (/^(ALIBABA_CLOUD_|ALICLOUD_|PULUMI_)/.test(key)) continue;
        env[key] = value;
    }
    return {
        ...env,
        PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_HOME: homeDir,
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: "",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // The examples are type-checked by examples.test.ts; here ts-node only transpiles (faster).
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
}

/** Stack configuration that points the quickstart at an in-process emulator. */
export function emulatorConfig(
    emulator: Emulator,
    credentials = { accessKey: DEFAULT_ACCESS_KEY.accessKeyId, secretKey: DEFAULT_ACCESS_KEY.accessKeySecret },
): Record<string, string> {
    return {
        "alicloud:region": "cn-hangzhou",
        "alicloud:accessKey": credentials.accessKey,
        "alicloud:secretKey": credentials.secretKey,
        "alicloud:endpoints": JSON.stringify([{ ecs: emulator.url }]),
    };
}

/** An emulator and a stack pointed at it: what the CLI suites start with. */
export interface EmulatorStack {
    emulator: Emulator;
    stack: PulumiStack;
    /** Removes the stack (kept with KPA_E2E_KEEP=1, unless `alwaysRemove`) and closes the emulator. */
    close: () => Promise<void>;
}

/**
 * Builds and links the package, starts an emulator on a free port, and makes a stack of
 * `projectDir` (default: the quickstart) configured for it (`emulatorConfig`) and with `config`.
 */
export async function startEmulatorStack(
    binDir: string,
    options: {
        stackName: string;
        projectDir?: string;
        emulator: Omit<EmulatorOptions, "port">;
        config?: Record<string, unknown>;
        /** Remove the stack even with KPA_E2E_KEEP=1: its state holds a secret. */
        alwaysRemove?: boolean;
    },
): Promise<EmulatorStack> {
    ensureBuiltAndLinked();
    const emulator = await startEmulator({ port: 0, ...options.emulator });
    const stack = new PulumiStack(binDir, options.projectDir ?? QUICKSTART_DIR, options.stackName);
    const close = async () => {
        if (options.alwaysRemove || process.env.KPA_E2E_KEEP !== "1") stack.remove();
        await emulator.close();
    };
    try {
        await stack.init();
        await stack.setConfigs({ ...emulatorConfig(emulator), ...options.config });
    } catch (error) {
        await close();
        throw error;
    }
    return { emulator, stack, close };
}

/**
 * A `pulumi up` whose whole process tree (the CLI, its language host and the dynamic provider) is
 * killed with SIGKILL as soon as `killWhen` holds; fails if the up finished first. Resolves with
 * what the killed run printed.
 */
export async function upKilledWhen(stack: PulumiStack, killWhen: () => boolean, timeoutMs: number, what: string): Promise<RunResult> {
    let child: ChildProcess | undefined;
    let finished = false;
    const run = stack.up([], { allowFailure: true, onSpawn: (c) => (child = c) }).finally(() => (finished = true));
    await waitFor(() => finished || killWhen(), timeoutMs, what);
    if (finished || child?.pid === undefined) throw new Error(`pulumi up finished before ${what}: nothing was interrupted`);
    for (const pid of [child.pid, ...descendantPids(child.pid)]) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
    return run;
}

/** Waits until `predicate` holds, polling every 20 ms. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
    }
}

/** The resource lines of a preview/up (`+`, `~`, `-`, `+-` …) for the attachment. */
export function attachmentLines(output: string): string[] {
    return output.split("\n").filter((line) => line.includes("KeyPairAttachment fleet-key"));
}
