/** Signature verification as the SDK exercises it: V3 (default), V1 (`signatureAlgorithm: "v2"`), STS. */
import * as ecs from "@alicloud/ecs20140526";
import { startEmulator, type Emulator } from "../../emulator";
import { ecsClient, ecsErrorOf, REGION, sendSignedV3 } from "./helpers";

const STS = { accessKeyId: "STS.tmp-key", accessKeySecret: "tmp-secret", securityToken: "token-123" };
let emulator: Emulator;

beforeAll(async () => {
    emulator = await startEmulator({
        seed: {
            accessKeys: [{ accessKeyId: "ak-2", accessKeySecret: "secret-2" }, STS],
            // `!'()*~` travel unescaped on the wire but escaped in the signature (ecs-api.md §1).
            keyPairs: [{ name: "ops-2026" }, { name: "a b*c(d)!'~e" }],
        },
    });
});
afterAll(() => emulator.close());

const describeKeyPairs = (client: ReturnType<typeof ecsClient>, keyPairName?: string) =>
    client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION, keyPairName }));

test.each([
    ["V3 (default)", {}],
    ["V1 HMAC-SHA1", { signatureAlgorithm: "v2" as const }],
    ["V3 with a seeded key", { accessKeyId: "ak-2", accessKeySecret: "secret-2" }],
    ["V3 with STS", STS],
    ["V1 with STS", { ...STS, signatureAlgorithm: "v2" as const }],
])("%s: accepted, including characters the SDK leaves unescaped", async (_name, options) => {
    const client = ecsClient(emulator, options);
    const response = await describeKeyPairs(client, "a b*c(d)!'~e");
    expect(response.body?.keyPairs?.keyPair?.map((k) => k.keyPairName)).toEqual(["a b*c(d)!'~e"]);
});

test.each([
    ["V3", {}],
    ["V1", { signatureAlgorithm: "v2" as const }],
])("%s: a wrong secret → 400 SignatureDoesNotMatch", async (_name, options) => {
    const client = ecsClient(emulator, { ...options, accessKeySecret: "wrong" });
    expect(await ecsErrorOf(describeKeyPairs(client))).toMatchObject({ code: "SignatureDoesNotMatch", statusCode: 400 });
});

test("an unknown access key → 404 InvalidAccessKeyId.NotFound", async () => {
    const client = ecsClient(emulator, { accessKeyId: "nobody" });
    expect(await ecsErrorOf(describeKeyPairs(client))).toMatchObject({ code: "InvalidAccessKeyId.NotFound", statusCode: 404 });
});

test("STS: the token must be present and match", async () => {
    const wrong = ecsClient(emulator, { ...STS, securityToken: "other" });
    expect(await ecsErrorOf(describeKeyPairs(wrong))).toMatchObject({
        code: "InvalidSecurityToken.MismatchWithAccessKey",
        statusCode: 400,
    });
    const missing = ecsClient(emulator, { ...STS, securityToken: undefined, signatureAlgorithm: "v2" });
    expect(await ecsErrorOf(describeKeyPairs(missing))).toMatchObject({ code: "MissingSecurityToken", statusCode: 400 });
});

test("a replayed nonce → 400 SignatureNonceUsed", async () => {
    const request = { action: "DescribeKeyPairs", query: { RegionId: REGION }, nonce: "fixed-nonce-0001" };
    expect((await sendSignedV3(emulator, request)).status).toBe(200);
    const replay = await sendSignedV3(emulator, request);
    expect(replay).toMatchObject({ status: 400, body: { Code: "SignatureNonceUsed" } });
});

test("a date more than 15 minutes off → 400 InvalidTimeStamp.Expired; within the window is fine", async () => {
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, "Z");
    const stale = await sendSignedV3(emulator, { action: "DescribeKeyPairs", query: { RegionId: REGION }, date: at(-16 * 60_000) });
    expect(stale).toMatchObject({ status: 400, body: { Code: "InvalidTimeStamp.Expired" } });
    const ahead = await sendSignedV3(emulator, { action: "DescribeKeyPairs", query: { RegionId: REGION }, date: at(16 * 60_000) });
    expect(ahead.body.Code).toBe("InvalidTimeStamp.Expired");
    const recent = await sendSignedV3(emulator, { action: "DescribeKeyPairs", query: { RegionId: REGION }, date: at(-14 * 60_000) });
    expect(recent.status).toBe(200);
});

test("an unknown action → 404 InvalidAction.NotFound with the ECS envelope and headers", async () => {
    const response = await sendSignedV3(emulator, { action: "CreateImage", query: { RegionId: REGION } });
    expect(response.status).toBe(404);
    expect(Object.keys(response.body).sort()).toEqual(["Code", "HostId", "Message", "Recommend", "RequestId"]);
    expect(response.body.Code).toBe("InvalidAction.NotFound");
});

test("unsigned requests are refused; verifySignatures: false accepts them", async () => {
    const unsigned = await fetch(`${emulator.url}/?Action=DescribeKeyPairs&Version=2014-05-26&RegionId=${REGION}`, { method: "POST" });
    expect(unsigned.status).toBe(400);
    expect(unsigned.headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(unsigned.headers.get("x-acs-request-id")).toMatch(/^[0-9A-F-]{36}$/);
    expect(((await unsigned.json()) as { Code: string }).Code).toBe("IncompleteSignature");

    const open = await startEmulator({ verifySignatures: false, seed: { keyPairs: [{ name: "k" }] } });
    try {
        const response = await fetch(`${open.url}/?Action=DescribeKeyPairs&Version=2014-05-26&RegionId=${REGION}`, { method: "POST" });
        const body = (await response.json()) as { TotalCount: number; RequestId: string };
        expect(body.TotalCount).toBe(1);
        expect(body.RequestId).toBe(response.headers.get("x-acs-request-id"));
    } finally {
        await open.close();
    }
});
