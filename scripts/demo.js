#!/usr/bin/env node
/**
 * `npm run demo`: the quickstart (root Pulumi.yaml → examples/quickstart) under the real Pulumi CLI,
 * against a local ECS emulator with a demo fleet, in a throwaway file backend:
 *
 *   preview → up → a Windows instance refused → out-of-band detach → drift caught by
 *   `preview --refresh --expect-no-changes` → `up --refresh` → re-up (no changes) → an online key
 *   change (activation "online": the key in effect through Cloud Assistant, 0 restarts) → destroy
 *
 * After each step it prints the fleet as the emulator sees it. Nothing touches a real account:
 * ambient Alibaba Cloud credentials are removed from the CLI's environment.
 *
 * Options (environment): KPA_DEMO_KEEP=1 keeps the temp dir (backend, transcript);
 * KPA_DEMO_TIME_SCALE (default 0.25: a reboot takes 2 s).
 */
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const SEED_FILE = path.join(ROOT, "emulator", "seed.example.json");
const STACK = "demo";
const KEY = "ops-2027";
/** The key the online step switches to. */
const ONLINE_KEY = "ops-2026";
const FLEET = ["i-bp1web0001", "i-bp1web0002", "i-bp1web0003", "i-bp1batch001"];
const REFUSED = ["i-bp1win00001", "i-bp1legacy01"];
const DRIFTED = "i-bp1web0002";
const MUTATING = new Set([
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

const started = Date.now();
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
let stepNo = 0;
const step = (title) => console.log(`\n${bold(`── ${++stepNo}. ${title} `.padEnd(100, "─"))}`);
const note = (text) => console.log(`   ${text}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function ensureBuilt() {
    if (
        !fs.existsSync(path.join(ROOT, "dist", "emulator", "index.js")) ||
        !fs.existsSync(path.join(ROOT, "dist", "provider", "lifecycle.js"))
    ) {
        note("dist/ is missing: building (npm run build) ...");
        execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
    }
    execFileSync(process.execPath, [path.join(__dirname, "link-self.js")], { cwd: ROOT, stdio: "inherit" });
}

function ensureCli() {
    const cached = path.join(
        process.env.PULUMI_CLI_CACHE || path.join(os.homedir(), ".cache", "pulumi-alicloud-keypair-attachment"),
        "pulumi-v3.248.0",
        "bin",
        "pulumi",
    );
    if (!fs.existsSync(cached)) {
        note("The Pulumi CLI v3.248.0 is built from source with Go the first time (scripts/ensure-pulumi.sh):");
        note("this takes about 5 minutes once (2 cores, cold Go caches), then seconds. Progress follows.");
    }
    const t = Date.now();
    const out = execFileSync("bash", [path.join(__dirname, "ensure-pulumi.sh")], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    const binDir = out.trim().split("\n").pop();
    const version = execFileSync(path.join(binDir, "pulumi"), ["version"], { encoding: "utf8" }).trim();
    note(`pulumi ${version} in ${binDir} (${seconds(Date.now() - t)})`);
    return binDir;
}

/** Runs the CLI with the demo's environment; resolves with { code, output }. */
function pulumiRunner(binDir, env, configFile, transcript) {
    return (args, { withConfig = true, withStack = true, cwd = ROOT } = {}) =>
        new Promise((resolve, reject) => {
            const full = [
                ...args,
                ...(withStack ? ["--stack", STACK] : []),
                "--non-interactive",
                "--color",
                "never",
                ...(withConfig ? ["--config-file", configFile] : []),
            ];
            const child = spawn(path.join(binDir, "pulumi"), full, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
            let output = "";
            child.stdout.on("data", (d) => (output += d));
            child.stderr.on("data", (d) => (output += d));
            child.on("error", reject);
            child.on("close", (code) => {
                fs.appendFileSync(transcript, `$ pulumi ${full.join(" ")}  (exit ${code})\n${output}\n`);
                resolve({ code, output });
            });
        });
}

/** The CLI's output, minus progress lines and the outputs block (the table shows the result). */
function show(output, { maxLines = 40 } = {}) {
    const lines = [];
    let inOutputs = false;
    for (const line of output.split("\n")) {
        if (/^Outputs:/.test(line)) inOutputs = true;
        else if (/^(Resources|Diagnostics):/.test(line) || /^\S/.test(line)) inOutputs = false;
        if (inOutputs || /^@ /.test(line) || /^\s*$/.test(line) || /^(Previewing|Updating|Destroying|Refreshing) \(/.test(line)) continue;
        if (/The resources in the stack have been deleted|If you want to remove the stack completely/.test(line)) continue;
        lines.push(line);
    }
    for (const line of lines.slice(0, maxLines)) console.log(`   │ ${line}`);
    if (lines.length > maxLines) console.log(`   │ … (${lines.length - maxLines} more lines in the transcript)`);
}

function table(emulator, flags) {
    const rows = emulator.model
        .instances()
        .map((i) => [
            i.id,
            i.name,
            i.status,
            i.osType === "windows" ? "(windows)" : i.ioOptimized ? (i.keyPairName ?? "—") : "(gen I)",
            i.effectiveKeyPairName ?? "—",
            String(i.rebootCount),
            flags.passwordReset.has(i.id) ? "yes" : "",
        ]);
    const head = ["instance", "name", "state", "bound key", "effective key", "restarts", "password reset"];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells) => "   " + cells.map((v, c) => v.padEnd(widths[c])).join("  ");
    console.log(line(head));
    console.log("   " + widths.map((w) => "─".repeat(w)).join("  "));
    for (const r of rows) console.log(line(r));
}

function mutatingSince(emulator, mark) {
    return emulator.calls.slice(mark).filter((c) => MUTATING.has(c.action));
}

function describeCalls(calls) {
    if (calls.length === 0) return "none";
    return calls.map((c) => `${c.action}(${c.instanceIds.join(", ")})`).join("; ");
}

async function main() {
    console.log(bold("KeyPairAttachment demo — the quickstart under the real Pulumi CLI, against a local ECS emulator"));
    ensureBuilt();
    const { startEmulator, loadSeedFile } = require(path.join(ROOT, "dist", "emulator"));
    const timeScale = Number(process.env.KPA_DEMO_TIME_SCALE || "0.25");

    step("Start the ECS emulator with a demo fleet (emulator/seed.example.json)");
    const emulator = await startEmulator({ port: 0, seed: loadSeedFile(SEED_FILE), timeScale });
    note(`listening on ${emulator.url}; a reboot takes ${seconds(8000 * timeScale)} (time scale ${timeScale})`);
    note(
        `key pairs: ${emulator.model
            .keyPairs()
            .map((k) => k.name)
            .join(", ")}; the quickstart binds "${KEY}" to ${FLEET.join(", ")}`,
    );
    const flags = { passwordReset: new Set() };
    table(emulator, flags);

    const temp = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-demo-"));
    const cleanup = async () => {
        await emulator.close().catch(() => undefined);
        if (process.env.KPA_DEMO_KEEP === "1") console.log(`\n(kept ${temp})`);
        else fs.rmSync(temp, { recursive: true, force: true });
    };
    process.once("SIGINT", () => cleanup().then(() => process.exit(130)));

    try {
        step("Make sure the Pulumi CLI is built");
        const binDir = ensureCli();

        step("Create a stack in a throwaway local backend and point the quickstart at the emulator");
        const env = {};
        for (const [k, v] of Object.entries(process.env)) if (!/^(ALIBABA_CLOUD_|ALICLOUD_|PULUMI_)/.test(k)) env[k] = v;
        Object.assign(env, {
            PATH: `${binDir}${path.delimiter}${process.env.PATH}`,
            PULUMI_HOME: path.join(temp, "pulumi-home"),
            PULUMI_BACKEND_URL: `file://${path.join(temp, "backend")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        });
        fs.mkdirSync(path.join(temp, "backend"));
        fs.mkdirSync(path.join(temp, "stub"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(temp, "stub", "Pulumi.yaml"));
        const configFile = path.join(temp, "stub", `Pulumi.${STACK}.yaml`);
        const transcript = path.join(temp, "transcript.log");
        const pulumi = pulumiRunner(binDir, env, configFile, transcript);
        const must = async (args, options) => {
            const result = await pulumi(args, options);
            if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${result.output}`);
            return result;
        };
        await must(["stack", "init", STACK, "--secrets-provider", "passphrase"], {
            withConfig: false,
            withStack: false,
            cwd: path.join(temp, "stub"),
        });
        const setObject = (key, value) =>
            must([
                "config",
                "set-all",
                "--json",
                JSON.stringify({ [key]: { value: JSON.stringify(value), objectValue: value, secret: false } }),
            ]);
        await must(["config", "set", "alicloud:endpoints", JSON.stringify([{ ecs: emulator.url }])]);
        await must(["config", "set", "alicloud:accessKey", "demo-access-key"]);
        await must(["config", "set", "--secret", "alicloud:secretKey", "demo-access-secret"]);
        await must(["config", "set", "keyPairName", KEY]);
        await setObject("instanceIds", FLEET);
        await setObject("restart", { pollIntervalSeconds: 0.5 });
        note(`backend file://${path.join(temp, "backend")}, stack "${STACK}", project: the root Pulumi.yaml (examples/quickstart)`);
        show((await must(["config"])).output);

        const outputs = async () => JSON.parse((await must(["stack", "output", "--json"], { withConfig: false })).output || "{}");
        const timed = async (title, args, { expectFailure = false } = {}) => {
            step(title);
            note(`$ pulumi ${args.join(" ")}`);
            const mark = emulator.calls.length;
            const t = Date.now();
            const result = await pulumi(args);
            show(result.output);
            if (expectFailure ? result.code === 0 : result.code !== 0)
                throw new Error(`pulumi ${args.join(" ")} exited with ${result.code}, which the demo did not expect`);
            note(
                `exit code ${result.code}, ${seconds(Date.now() - t)}; ECS calls that changed something: ${describeCalls(mutatingSince(emulator, mark))}`,
            );
            return result;
        };
        const refreshFlags = async () => {
            const out = await outputs();
            flags.passwordReset = new Set(out.passwordResetRequiredInstanceIds ?? []);
            return out;
        };

        await timed("Preview: one create, and nothing changes in ECS", ["preview"]);
        table(emulator, flags);

        await timed("Up: bind the key, restart the running instances, flag the stopped one", ["up", "--yes", "--skip-preview"]);
        const afterUp = await refreshFlags();
        note(
            `stack outputs: bound ${afterUp.boundInstanceIds.join(", ")}; restarted ${afterUp.restartedInstanceIds.join(", ")}; key in effect at next start: ${afterUp.pendingRestartInstanceIds.join(", ") || "—"}`,
        );
        table(emulator, flags);

        await setObject("instanceIds", [...FLEET, ...REFUSED]);
        await timed(
            `Add a Windows and a Generation I instance (${REFUSED.join(", ")}) to instanceIds: up is refused, nothing changes`,
            ["up", "--yes", "--skip-preview"],
            { expectFailure: true },
        );
        await setObject("instanceIds", FLEET);
        note("Removed them from instanceIds again (the fix the error asks for).");

        step(`Out-of-band change: someone unbinds the key from ${DRIFTED} in the console (emulator control API)`);
        const res = await fetch(`${emulator.url}/_emulator/instances/${DRIFTED}/detach`, { method: "POST", body: "{}" });
        note(`POST /_emulator/instances/${DRIFTED}/detach → HTTP ${res.status}`);
        table(emulator, flags);

        const drift = await timed(
            "Drift check for CI: `preview --refresh --expect-no-changes` fails",
            ["preview", "--refresh", "--expect-no-changes"],
            { expectFailure: true },
        );
        note(
            /changes were proposed/i.test(drift.output)
                ? "→ drift detected: the refresh found the key missing, and the preview proposes binding it again."
                : "→ the preview failed (see above).",
        );

        await timed("Repair: `up --refresh` binds the key again and restarts only that instance", [
            "up",
            "--yes",
            "--skip-preview",
            "--refresh",
        ]);
        await refreshFlags();
        table(emulator, flags);

        await timed("Re-up: nothing to do, no ECS change", ["up", "--yes", "--skip-preview"]);

        // Online activation (docs/online.md): the key goes into authorized_keys through Cloud Assistant.
        const rebootsBefore = new Map(emulator.model.instances().map((i) => [i.id, i.rebootCount]));
        await must(["config", "set", "keyPairName", ONLINE_KEY]);
        await must(["config", "set", "activation", "online"]);
        await timed(`Online key change to "${ONLINE_KEY}" (activation: "online"): in effect through Cloud Assistant, no restart`, [
            "up",
            "--yes",
            "--skip-preview",
        ]);
        const afterOnline = await refreshFlags();
        const rebooted = emulator.model.instances().filter((i) => i.rebootCount !== rebootsBefore.get(i.id));
        note(
            `stack outputs: in effect without a restart on ${(afterOnline.onlineActivatedInstanceIds ?? []).join(", ") || "—"}; ` +
                `restarted ${afterOnline.restartedInstanceIds.join(", ") || "none"}; key in effect at next start: ${afterOnline.pendingRestartInstanceIds.join(", ") || "—"}`,
        );
        note(`restarts during this step: ${rebooted.length} (the effective-key column changed, the restarts column did not)`);
        table(emulator, flags);

        const destroy = await timed("Destroy: unbind; the output names the instances that need a password reset", [
            "destroy",
            "--yes",
            "--skip-preview",
        ]);
        const notice = destroy.output.split("\n").find((l) => /unbound key pair/.test(l)) ?? "";
        flags.passwordReset = new Set(FLEET.filter((id) => notice.includes(id)));
        table(emulator, flags);
        note(
            "Password logon stays disabled after an unbind until the password is reset (ECS rule); restart.onUnbind is off, so no restart.",
        );

        step("Done");
        note(`${emulator.calls.length} ECS API calls in all; demo took ${seconds(Date.now() - started)}.`);
        note(
            "Run it yourself: npm run emulator -- --port 8080 --seed emulator/seed.example.json, then `pulumi stack init dev && pulumi up` at the repo root.",
        );
        note(`CLI transcript: ${process.env.KPA_DEMO_KEEP === "1" ? transcript : "set KPA_DEMO_KEEP=1 to keep it"}`);
    } finally {
        await cleanup();
    }
}

main().catch((error) => {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
