/**
 * Scenario 11: the same resource from an Automation API inline program
 * (`LocalWorkspace.createOrSelectStack({ stackName, projectName, program })`), driving the real
 * CLI: up, outputs, destroy. The program runs in a plain node child (fixtures/automation-program.js).
 * Its workspace directory holds node_modules links, as an application's project would: the dynamic
 * provider plugin runs there and loads the package by name.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

import { DEFAULT_ACCESS_KEY, startEmulator, type Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, REPO_ROOT, callsOf, describeWithCli, ensureBuiltAndLinked, pulumiEnv, type StackOutputs } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const FLEET = ["i-autoweb0001", "i-autoweb0002", "i-autobatch01"];

describeWithCli("Automation API inline program", ({ binDir }) => {
    let emulator: Emulator;
    let tempDir: string;

    beforeAll(async () => {
        ensureBuiltAndLinked();
        emulator = await startEmulator({
            port: 0,
            timeScale: 0.05,
            seed: {
                keyPairs: [{ name: "ops-2026" }],
                instances: [
                    { id: FLEET[0], name: "web-1" },
                    { id: FLEET[1], name: "web-2" },
                    { id: FLEET[2], name: "batch-1", status: "Stopped" },
                ],
            },
        });
        tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-e2e-automation-"));
        for (const dir of ["backend", "home", "work/node_modules"]) fs.mkdirSync(path.join(tempDir, dir), { recursive: true });
        fs.symlinkSync(REPO_ROOT, path.join(tempDir, "work", "node_modules", "pulumi-alicloud-keypair-attachment"), "dir");
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@pulumi"), path.join(tempDir, "work", "node_modules", "@pulumi"), "dir");
    });

    afterAll(async () => {
        if (process.env.KPA_E2E_KEEP !== "1" && tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
        await emulator?.close();
    });

    /** What fixtures/automation-program.js prints: the summary of the operation and the stack outputs. */
    interface AutomationResult {
        result: string;
        resourceChanges: Record<string, number>;
        outputs: StackOutputs;
        log: string;
    }

    async function run(action: "up" | "destroy"): Promise<AutomationResult> {
        const options = {
            action,
            binDir,
            stackName: "inline",
            projectName: "automation-e2e",
            workDir: path.join(tempDir, "work"),
            backendDir: path.join(tempDir, "backend"),
            homeDir: path.join(tempDir, "home"),
            endpoint: emulator.url,
            accessKey: DEFAULT_ACCESS_KEY.accessKeyId,
            secretKey: DEFAULT_ACCESS_KEY.accessKeySecret,
            keyPairName: "ops-2026",
            instanceIds: FLEET,
        };
        const env = { ...pulumiEnv(binDir, options.backendDir, options.homeDir), KPA_AUTOMATION: JSON.stringify(options) };
        const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, "fixtures", "automation-program.js")], {
            cwd: REPO_ROOT,
            env,
            maxBuffer: 64 * 1024 * 1024,
            timeout: 3 * 60_000,
        });
        return JSON.parse(stdout.trim().split("\n").pop()!) as AutomationResult;
    }

    it("11. up, outputs and destroy through LocalWorkspace", async () => {
        const up = await run("up");
        expect(up.result).toBe("succeeded");
        expect(up.resourceChanges).toMatchObject({ create: 2 });
        expect([...up.outputs.boundInstanceIds].sort()).toEqual([...FLEET].sort());
        expect([...up.outputs.restartedInstanceIds].sort()).toEqual([FLEET[0], FLEET[1]]);
        expect(up.outputs.pendingRestartInstanceIds).toEqual([FLEET[2]]);
        expect(up.log).toMatch(/KeyPairAttachment inline-key created|inline-key created/);
        for (const id of FLEET) expect(emulator.model.instance(id)!.keyPairName).toBe("ops-2026");
        expect(emulator.model.instance(FLEET[0])!.rebootCount).toBe(1);

        emulator.resetCalls();
        const destroy = await run("destroy");
        expect(destroy.result).toBe("succeeded");
        expect(destroy.resourceChanges).toMatchObject({ delete: 2 });
        expect(
            callsOf(emulator.calls, "DetachKeyPair")
                .flatMap((c) => c.instanceIds)
                .sort(),
        ).toEqual([...FLEET].sort());
        for (const id of FLEET) expect(emulator.model.instance(id)!.keyPairName).toBeUndefined();
    });
});
