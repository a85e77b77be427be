/**
 * The TypeScript and Python SDKs generated from schema.json (by the generators `pulumi package
 * gen-sdk` runs, built by scripts/ensure-pulumi-go.sh) build here: the TypeScript one with this
 * repository's TypeScript and @pulumi/pulumi; the Python one byte-compiles (the `pulumi` Python
 * package cannot be installed on this machine: PyPI is not reachable). .NET: no dotnet toolchain
 * and no .NET generator in pkg/v3 (see docs/plugin.md).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { REPO_ROOT, describeUnavailable } from "../e2e/harness";
import { buildNodeSdk } from "./harness";

jest.setTimeout(10 * 60_000);

let genSdk: string | undefined;
let skipReason = "";
try {
    const out = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi-go.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    genSdk = path.join(out.trim().split("\n").pop() ?? "", "pulumi-gen-sdk");
} catch (error) {
    skipReason = error instanceof Error ? error.message : String(error);
}

if (!genSdk) describeUnavailable("SDKs generated from schema.json", `scripts/ensure-pulumi-go.sh failed: ${skipReason}`);
else
    describe("SDKs generated from schema.json", () => {
        let dir: string;
        beforeAll(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-plugin-sdks-"));
        });
        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("TypeScript: compiles with tsc, and the built package exposes ecs.KeyPairAttachment and the provider", () => {
            const sdk = path.join(dir, "nodejs");
            const built = buildNodeSdk(genSdk, sdk);
            const declarations = fs.readFileSync(path.join(built, "ecs", "keyPairAttachment.d.ts"), "utf8");
            expect(declarations).toMatch(/readonly restartOwedInstanceIds: pulumi\.Output<string\[\] \| undefined>/);
            expect(declarations).toMatch(/passwordOnUnbind\?: pulumi\.Input<string \| undefined>/);
            const listed = execFileSync(
                process.execPath,
                ["-e", `const sdk = require(${JSON.stringify(built)}); console.log(typeof sdk.ecs.KeyPairAttachment, typeof sdk.Provider)`],
                {
                    encoding: "utf8",
                },
            );
            expect(listed.trim()).toBe("function function");
        });

        it("Python: every module byte-compiles, and the resource declares passwordOnUnbind secret", () => {
            const sdk = path.join(dir, "python");
            execFileSync(genSdk, ["python", path.join(REPO_ROOT, "schema.json"), sdk]);
            execFileSync("python3", ["-m", "compileall", "-q", sdk], { stdio: "pipe" });
            const resource = fs.readFileSync(path.join(sdk, "pulumi_alicloud_keypair", "ecs", "key_pair_attachment.py"), "utf8");
            expect(resource).toMatch(/class KeyPairAttachment\(pulumi\.CustomResource\)/);
            expect(resource).toMatch(/additional_secret_outputs=\["passwordOnUnbind"\]/);
        });
    });
