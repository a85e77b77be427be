/**
 * The first errors a newcomer meets (issue 10): no credentials anywhere, a missing CLI profile, an
 * unreachable endpoint, an endpoint that is not ECS, an unknown region, a refused access key, and
 * access denied by RAM. Each goes through the real SDK (over HTTP to the emulator, to a plain HTTP
 * server, or to a closed port) and the gateway, and its message must say in one sentence what is
 * wrong, which sources were tried in which order, and the command that fixes it.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

import { DEFAULT_ACCESS_KEY, startEmulator, type Emulator } from "../../emulator";
import { resolveSettings } from "../../provider/config";
import { EcsCallError, SdkEcsGateway } from "../../provider/ecs/gateway";
import { CREDENTIAL_SOURCES, ENDPOINT_SOURCES, REGION_SOURCES } from "../../provider/ecs/explain-error";
import { quickRetry } from "./fixture";

const SET_KEYS =
    "`pulumi config set alicloud:accessKey <AccessKeyId>` and `pulumi config set --secret alicloud:secretKey <AccessKeySecret>`";
const INSTANCE = "i-bp1newcomer1";
const REPO_ROOT = path.resolve(__dirname, "..", "..");

let emulator: Emulator;
let home: string;

const savedEnv = { ...process.env };

beforeAll(async () => {
    emulator = await startEmulator({ port: 0, seed: { instances: [{ id: INSTANCE, name: "n-1" }] } });
    home = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-newcomer-home-"));
    for (const key of Object.keys(process.env)) if (/^(ALIBABA_CLOUD_|ALICLOUD_)/.test(key)) delete process.env[key];
});

afterAll(async () => {
    process.env = savedEnv;
    fs.rmSync(home, { recursive: true, force: true });
    await emulator.close();
});

afterEach(() => emulator.faults.clear());

/** The message of the error that DescribeInstances (the first call of every operation) fails with. */
async function firstError(config: Record<string, string>, region = "cn-hangzhou"): Promise<string> {
    const settings = resolveSettings({ get: (key) => config[key] }, {});
    const gateway = new SdkEcsGateway(settings, {
        retry: quickRetry({ maxAttempts: 2 }),
        timeouts: { connectTimeoutMs: 2_000, readTimeoutMs: 5_000 },
    });
    const error = await gateway.describeInstances(region, [INSTANCE]).then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EcsCallError);
    return (error as Error).message;
}

const endpoint = () => ({ "alicloud:endpoints": JSON.stringify([{ ecs: emulator.url }]) });
const keys = { "alicloud:accessKey": DEFAULT_ACCESS_KEY.accessKeyId, "alicloud:secretKey": DEFAULT_ACCESS_KEY.accessKeySecret };

/**
 * The SDK's default chain reads the real home directory (os.homedir(), which jest's process.env does
 * not change), so these cases run the built gateway (dist/, which `npm test` builds first) in a child
 * process whose HOME is an empty temp dir and whose environment has no Alibaba Cloud variables.
 */
async function firstErrorInEmptyHome(config: Record<string, string>): Promise<string> {
    const gatewayJs = path.join(REPO_ROOT, "dist", "provider", "ecs", "gateway.js");
    const explainJs = path.join(REPO_ROOT, "dist", "provider", "ecs", "explain-error.js");
    if (
        !fs.existsSync(explainJs) ||
        fs.statSync(explainJs).mtimeMs + 1000 < fs.statSync(path.join(REPO_ROOT, "provider", "ecs", "explain-error.ts")).mtimeMs
    )
        throw new Error("dist/ is missing or older than provider/: run `npm run build` first (npm test does)");
    const script = `
        const { SdkEcsGateway } = require(${JSON.stringify(gatewayJs)});
        const { resolveSettings } = require(${JSON.stringify(path.join(REPO_ROOT, "dist", "provider", "config.js"))});
        const config = ${JSON.stringify(config)};
        const gateway = new SdkEcsGateway(resolveSettings({ get: (key) => config[key] }, {}));
        gateway.describeInstances("cn-hangzhou", [${JSON.stringify(INSTANCE)}]).then(
            () => console.log(JSON.stringify({ ok: true })),
            (error) => console.log(JSON.stringify({ name: error.name, message: error.message })),
        );`;
    const env = { PATH: process.env.PATH, HOME: home, ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true" }; // no RAM-role lookup on 100.100.100.200
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { env, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split("\n").pop()!) as { ok?: boolean; name?: string; message?: string };
    expect(result.name).toBe("EcsCallError");
    return result.message!;
}

test("no credentials anywhere: says so, lists every source in order, and gives the commands", async () => {
    const message = await firstErrorInEmptyHome(endpoint());
    expect(message).toContain(
        `ECS DescribeInstances for ${INSTANCE} failed: No Alibaba Cloud credentials found: tried ${CREDENTIAL_SOURCES}, and none had any; run ${SET_KEYS}`,
    );
    expect(CREDENTIAL_SOURCES).toMatch(
        /alicloud:accessKey.*ALIBABA_CLOUD_ACCESS_KEY_ID.*ALICLOUD_ACCESS_KEY.*alicloud:profile.*default chain/,
    );
    expect(message).toContain(path.join(home, ".aliyun", "config.json")); // what the SDK tried is kept
    expect(message).not.toContain("It was retried");
});

test("a CLI profile that does not exist: names it, why it was used, and `aliyun configure --profile`", async () => {
    const message = await firstErrorInEmptyHome({ ...endpoint(), "alicloud:profile": "ops" });
    expect(message).toContain(
        'The credentials profile "ops" from stack config alicloud:profile (used because none of stack config alicloud:accessKey, ' +
            "ALIBABA_CLOUD_ACCESS_KEY_ID and ALICLOUD_ACCESS_KEY was set) could not be read from ~/.aliyun/config.json; " +
            `run \`aliyun configure --profile ops\`, or ${SET_KEYS}.`,
    );
});

test("an unreachable endpoint: names it, where it came from, the order of sources, and how to start or fix it", async () => {
    // A port that was just open and is now closed: connections are refused.
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const message = await firstError({ ...keys, "alicloud:endpoints": JSON.stringify([{ ecs: `http://127.0.0.1:${port}` }]) });
    expect(message).toContain(
        `Cannot reach the ECS endpoint http://127.0.0.1:${port} (ECONNREFUSED), taken from stack config alicloud:endpoints (tried ${ENDPOINT_SOURCES}); ` +
            "start ECS there (for the local emulator: `npx ecs-emulator --port 8080 --seed demo`), " +
            'or point the stack at the right one with `pulumi config set alicloud:endpoints \'[{"ecs":"<url>"}]\'`.',
    );
});

test("an endpoint that answers but is not ECS: says so and how to point the stack at ECS", async () => {
    const server = http.createServer((_request, response) => {
        response.writeHead(404, { "content-type": "text/html" });
        response.end("<html><body>Not Found</body></html>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
        const message = await firstError({ ...keys, "alicloud:endpoints": JSON.stringify([{ ecs: url }]) });
        expect(message).toContain(
            `The endpoint ${url} (from stack config alicloud:endpoints; tried ${ENDPOINT_SOURCES}) answered, but not as ECS: its answer is not an ECS JSON response; ` +
                "point the stack at an ECS endpoint with `pulumi config set alicloud:endpoints",
        );
    } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }
});

test("an unknown region: names it, where it came from, the order of sources, and the command", async () => {
    const message = await firstError({ ...endpoint(), ...keys, "alicloud:region": "cn-nowhere" }, "cn-nowhere");
    expect(message).toContain(
        `ECS does not know the region "cn-nowhere" (InvalidRegionId.NotFound), taken from stack config alicloud:region (tried ${REGION_SOURCES}); ` +
            "set a valid one with `pulumi config set alicloud:region cn-hangzhou` (`aliyun ecs DescribeRegions` lists them).",
    );
    expect(REGION_SOURCES).toMatch(/resource's region.*alicloud:region.*ALIBABA_CLOUD_REGION_ID.*ALICLOUD_REGION/);
});

test("an access key ECS does not know: names the key and its source, and the commands", async () => {
    const message = await firstError({ ...endpoint(), "alicloud:accessKey": "LTAI-not-a-key", "alicloud:secretKey": "nope" });
    expect(message).toContain(
        `ECS refused the access key LTAI-not-a-key from stack config alicloud:accessKey (InvalidAccessKeyId.NotFound; sources are tried in this order: ${CREDENTIAL_SOURCES}); set a valid key pair with ${SET_KEYS}.`,
    );
    expect(message).not.toContain("nope"); // never the secret
});

test("access denied: names the RAM action to allow, the credential source, and the grant command", async () => {
    emulator.faults.add({ action: "DescribeInstances", code: "Forbidden.RAM", status: 403, times: Infinity });
    const message = await firstError({ ...endpoint(), ...keys });
    expect(message).toContain(
        'The credentials from stack config alicloud:accessKey are not allowed to call ECS DescribeInstances (Forbidden.RAM): their RAM policy must allow the action "ecs:DescribeInstances"; ' +
            "an administrator grants it with `aliyun ram AttachPolicyToUser --PolicyType System --PolicyName AliyunECSFullAccess --UserName <user>`",
    );
    expect(message).toMatch(/request id|RequestId/i);
});
