/** The `ecs-emulator` bin, compiled from source into a temp dir and run as a child process. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import * as ecs from "@alicloud/ecs20140526";
import type { Emulator } from "../../emulator";
import { ecsClient, REGION } from "./helpers";

const ROOT = resolve(__dirname, "../..");
let outDir: string;
let child: ChildProcess;
let lines: string[];

beforeAll(async () => {
    // Only the emulator is compiled, so the test does not depend on the rest of the tree building.
    outDir = mkdtempSync(join(tmpdir(), "ecs-emulator-cli-"));
    execFileSync(process.execPath, [
        require.resolve("typescript/bin/tsc"),
        join(ROOT, "emulator/cli.ts"),
        "--outDir",
        outDir,
        "--rootDir",
        ROOT,
        "--target",
        "ES2022",
        "--module",
        "commonjs",
        "--strict",
        "--esModuleInterop",
        "--skipLibCheck",
        "--types",
        "node",
    ]);
    child = spawn(process.execPath, [
        join(outDir, "emulator/cli.js"),
        "--port",
        "0",
        "--seed",
        join(ROOT, "emulator/seed.example.json"),
        "--time-scale",
        "0",
    ]);
    lines = [];
    const reader = createInterface({ input: child.stdout! });
    await new Promise<void>((ready, fail) => {
        reader.on("line", (line) => {
            lines.push(line);
            if (lines.length === 2) ready();
        });
        child.once("exit", (code) => fail(new Error(`cli exited early with ${code}`)));
    });
});

afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(outDir, { recursive: true, force: true });
});

test("prints its URL and keys, serves the sample seed to the SDK, and stops cleanly on SIGTERM", async () => {
    const match = /^ecs-emulator listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(lines[0]);
    expect(match).not.toBeNull();
    expect(lines[1]).toContain("emulator-access-key");
    expect(lines[1]).toContain("demo-access-key");
    const url = match![1];
    const endpoint = url.replace("http://", "");
    const client = ecsClient({ endpoint, url } as Emulator, { accessKeyId: "demo-access-key", accessKeySecret: "demo-access-secret" });

    const byKey = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, keyPairName: "ops-2026" }));
    expect(byKey.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(["i-bp1web0001", "i-bp1web0002"]);
    const keyPairs = await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION }));
    expect(keyPairs.body?.keyPairs?.keyPair?.map((k) => k.keyPairName)).toEqual(["ops-2026", "ops-2027"]);
    const all = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION }));
    const instances = all.body?.instances?.instance ?? [];
    expect(instances.filter((i) => i.status === "Stopped")).toHaveLength(1);
    expect(instances.filter((i) => i.OSType === "windows")).toHaveLength(1);
    expect(instances.filter((i) => i.ioOptimized === false)).toHaveLength(1);

    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
});
