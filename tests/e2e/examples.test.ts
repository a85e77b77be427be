/**
 * The examples type-check (`tsc --noEmit` with each example's tsconfig), including
 * with-alicloud-instances, whose @pulumi/alicloud resource plugin cannot be downloaded here, so it
 * is compiled but never run. rolling-restart also runs under the real CLI against the emulator.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

import type { Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, REPO_ROOT, callsOf, describeWithCli, startEmulatorStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const EXAMPLES = ["quickstart", "rolling-restart", "with-alicloud-instances"];
const TSC = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");

describe("examples", () => {
    it.each(EXAMPLES)("%s type-checks (tsc --noEmit) and has a README and Pulumi.yaml", async (name) => {
        const dir = path.join(REPO_ROOT, "examples", name);
        for (const file of ["README.md", "Pulumi.yaml", "index.ts", "tsconfig.json"])
            expect(fs.existsSync(path.join(dir, file))).toBe(true);
        expect(fs.existsSync(path.join(dir, "node_modules"))).toBe(false); // the root's node_modules serves every example
        await promisify(execFile)(process.execPath, [TSC, "--noEmit", "-p", path.join(dir, "tsconfig.json")], { cwd: REPO_ROOT });
    });

    it("the root Pulumi.yaml runs the quickstart", () => {
        const root = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8");
        expect(root).toMatch(/^main: examples\/quickstart\/index\.ts$/m);
        expect(root).toMatch(/^name: quickstart$/m);
    });
});

describeWithCli("rolling-restart example under the real Pulumi CLI", ({ binDir }) => {
    const FLEET = ["i-rollweb0001", "i-rollweb0002", "i-rollweb0003", "i-rollweb0004", "i-rollweb0005"];
    let emulator: Emulator;
    let stack: PulumiStack;

    let close = () => Promise.resolve();

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-rolling",
            projectDir: path.join(REPO_ROOT, "examples", "rolling-restart"),
            emulator: { timeScale: 0.05, seed: { keyPairs: [{ name: "ops-2027" }], instances: FLEET.map((id) => ({ id })) } },
            config: { keyPairName: "ops-2027", instanceIds: FLEET, batchSize: "2" },
        }));
    });

    afterAll(async () => {
        await close();
    });

    it("restarts the fleet in waves of restart.batchSize", async () => {
        await stack.up();
        const waves = callsOf(emulator.calls, "RebootInstances").map((c) => c.instanceIds.length);
        expect(waves).toEqual([2, 2, 1]);
        expect([...(await stack.outputs()).restartedInstanceIds].sort()).toEqual(FLEET);
        for (const id of FLEET) expect(emulator.model.instance(id)).toMatchObject({ effectiveKeyPairName: "ops-2027", rebootCount: 1 });
        await stack.destroy();
    });
});
