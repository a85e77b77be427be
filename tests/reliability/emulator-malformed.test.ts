/**
 * The emulator answers malformed requests with the ECS error code and status — never a crash or a
 * hang — and keeps serving afterwards. Sent as hand-signed raw HTTP, through the official SDK where
 * the SDK can express them, and as raw bytes on a TCP socket for what no HTTP client would send.
 */
import * as ecs from "@alicloud/ecs20140526";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { DEFAULT_ACCESS_KEY, Emulator, startEmulator } from "../../emulator";
import { sha256Hex, v3CanonicalRequest, v3Signature } from "../../emulator/signature";
import { REGION, ecsClient, ecsErrorOf } from "../emulator/helpers";

let emulator: Emulator;
const LONG_KEY = "a".repeat(128);

beforeAll(async () => {
    emulator = await startEmulator({
        timeScale: 0,
        seed: { keyPairs: [{ name: "ops" }, { name: LONG_KEY }], instances: [{ id: "i-1" }, { id: "i-2" }] },
    });
});
afterAll(() => emulator.close());

interface Reply {
    status: number;
    body: Record<string, unknown>;
}

interface Signed {
    action: string;
    query?: Record<string, string>;
    body?: Buffer | string;
    contentType?: string;
    date?: string;
    nonce?: string;
    accessKeySecret?: string;
    /** Signs this hash instead of the body's. */
    payloadHash?: string;
}

/** A V3 request signed by hand (so a test can send what the SDK never would), over fetch. */
async function signed(request: Signed): Promise<Reply> {
    const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
    const headers: Record<string, string> = {
        host: emulator.endpoint,
        "x-acs-action": request.action,
        "x-acs-version": "2014-05-26",
        "x-acs-date": request.date ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        "x-acs-signature-nonce": request.nonce ?? randomBytes(16).toString("hex"),
        "x-acs-content-sha256": request.payloadHash ?? sha256Hex(body),
        ...(request.contentType ? { "content-type": request.contentType } : {}),
    };
    const query = Object.entries(request.query ?? {});
    const canonical = v3CanonicalRequest({ method: "POST", query, signedHeaders: headers, payloadHash: headers["x-acs-content-sha256"] });
    const signature = v3Signature(request.accessKeySecret ?? DEFAULT_ACCESS_KEY.accessKeySecret, canonical);
    headers.authorization = `ACS3-HMAC-SHA256 Credential=${DEFAULT_ACCESS_KEY.accessKeyId},SignedHeaders=${Object.keys(headers).sort().join(";")},Signature=${signature}`;
    const response = await fetch(`${emulator.url}/?${new URLSearchParams(request.query).toString()}`, {
        method: "POST",
        headers,
        body: body.length ? body : undefined,
        signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Raw bytes on a socket; resolves with the status and the JSON body once the server closes. */
function rawRequest(bytes: string | Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const socket = connect(Number(emulator.endpoint.split(":")[1]), "127.0.0.1", () => socket.end(bytes));
        const chunks: Buffer[] = [];
        socket.setTimeout(5000, () => reject(new Error("the emulator did not answer (hang)")));
        socket.on("data", (chunk) => chunks.push(chunk));
        socket.on("error", reject);
        socket.on("close", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
            const json = text.slice(text.indexOf("\r\n\r\n") + 4);
            try {
                resolve({ status, body: JSON.parse(json) as Record<string, unknown> });
            } catch {
                reject(new Error(`not a JSON body: ${JSON.stringify(text.slice(0, 200))}`));
            }
        });
    });
}

/** The ECS error envelope of ecs-api.md §5.1. */
function expectEcsError(reply: Reply, status: number, code: string): void {
    expect({ status: reply.status, code: reply.body.Code }).toEqual({ status, code });
    expect(reply.body).toEqual(
        expect.objectContaining<Record<string, unknown>>({
            RequestId: expect.any(String),
            HostId: expect.any(String),
            Message: expect.any(String),
            Recommend: expect.stringContaining(code),
        }),
    );
}

async function expectStillServing(): Promise<void> {
    const response = await ecsClient(emulator).describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION, keyPairName: "ops" }));
    expect(response.body?.keyPairs?.keyPair?.map((k) => k.keyPairName)).toEqual(["ops"]);
}

afterEach(expectStillServing);

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i}`);
const repeatList = (n: number) => Object.fromEntries(ids(n).map((id, i) => [`InstanceId.${i + 1}`, id]));

describe("hand-signed requests with bad parameters get the ECS code and status", () => {
    test.each<[string, Signed, number, string]>([
        ...["[i-1", '"i-1"', "[1,2]", "{}", "[]", "null", '["i-1",]'].map((bad): [string, Signed, number, string] => [
            `AttachKeyPair InstanceIds=${bad}`,
            { action: "AttachKeyPair", query: { RegionId: REGION, KeyPairName: "ops", InstanceIds: bad } },
            400,
            "InvalidInstanceIds.ValueNotSupported",
        ]),
        [
            "DetachKeyPair InstanceIds=[i-1",
            { action: "DetachKeyPair", query: { RegionId: REGION, KeyPairName: "ops", InstanceIds: "[i-1" } },
            400,
            "InvalidInstanceIds.ValueNotSupported",
        ],
        [
            "DescribeInstances InstanceIds=[i-1",
            { action: "DescribeInstances", query: { RegionId: REGION, InstanceIds: "[i-1" } },
            400,
            "InvalidInstanceIds.Malformed",
        ],
        [
            "AttachKeyPair without KeyPairName",
            { action: "AttachKeyPair", query: { RegionId: REGION, InstanceIds: '["i-1"]' } },
            400,
            "MissingKeyPairName",
        ],
        [
            "AttachKeyPair without InstanceIds",
            { action: "AttachKeyPair", query: { RegionId: REGION, KeyPairName: "ops" } },
            400,
            "MissingInstanceIds",
        ],
        [
            "AttachKeyPair without RegionId",
            { action: "AttachKeyPair", query: { KeyPairName: "ops", InstanceIds: '["i-1"]' } },
            400,
            "MissingRegionId",
        ],
        [
            "RebootInstances without InstanceId",
            { action: "RebootInstances", query: { RegionId: REGION } },
            403,
            "InvalidInstanceId.NotFound",
        ],
        [
            "AttachKeyPair with 51 ids",
            { action: "AttachKeyPair", query: { RegionId: REGION, KeyPairName: "ops", InstanceIds: JSON.stringify(ids(51)) } },
            403,
            "InstanceKeyPairLimitExceeded",
        ],
        [
            "DescribeInstances with 101 ids",
            { action: "DescribeInstances", query: { RegionId: REGION, InstanceIds: JSON.stringify(ids(101)) } },
            403,
            "InvalidParameter.TooManyInstanceIds",
        ],
        [
            "RebootInstances with 101 ids",
            { action: "RebootInstances", query: { RegionId: REGION, ...repeatList(101) } },
            403,
            "InvalidParameter.TooManyInstanceIds",
        ],
        [
            "DescribeInstances with a forged NextToken",
            { action: "DescribeInstances", query: { RegionId: REGION, NextToken: "not-a-token" } },
            400,
            "InvalidParameter",
        ],
        [
            "DescribeInstances with PageSize=abc",
            { action: "DescribeInstances", query: { RegionId: REGION, PageSize: "abc" } },
            400,
            "InvalidParameter",
        ],
        [
            "DescribeKeyPairs with PageSize=0",
            { action: "DescribeKeyPairs", query: { RegionId: REGION, PageSize: "0" } },
            400,
            "InvalidParameter",
        ],
        [
            "RebootInstances with ForceReboot=maybe",
            { action: "RebootInstances", query: { RegionId: REGION, "InstanceId.1": "i-1", ForceReboot: "maybe" } },
            400,
            "InvalidParameter",
        ],
        ["an unknown region", { action: "DescribeInstances", query: { RegionId: "xx-nowhere-9" } }, 404, "InvalidRegionId.NotFound"],
        ["an unknown action", { action: "DeleteEverything", query: { RegionId: REGION } }, 404, "InvalidAction.NotFound"],
        ["an empty action", { action: "", query: { RegionId: REGION } }, 400, "MissingAction"],
        [
            "a wrong secret (bad signature)",
            { action: "DescribeKeyPairs", query: { RegionId: REGION }, accessKeySecret: "not-the-secret" },
            400,
            "SignatureDoesNotMatch",
        ],
        [
            "a body that does not match x-acs-content-sha256",
            {
                action: "DescribeKeyPairs",
                query: { RegionId: REGION },
                body: "RegionId=cn-beijing",
                contentType: "application/x-www-form-urlencoded",
                payloadHash: sha256Hex(""),
            },
            400,
            "SignatureDoesNotMatch",
        ],
        [
            "an x-acs-date 20 minutes old",
            {
                action: "DescribeKeyPairs",
                query: { RegionId: REGION },
                date: new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
            },
            400,
            "InvalidTimeStamp.Expired",
        ],
        [
            "an x-acs-date 20 minutes ahead",
            {
                action: "DescribeKeyPairs",
                query: { RegionId: REGION },
                date: new Date(Date.now() + 20 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
            },
            400,
            "InvalidTimeStamp.Expired",
        ],
        [
            "an x-acs-date that is not a date",
            { action: "DescribeKeyPairs", query: { RegionId: REGION }, date: "yesterday" },
            400,
            "InvalidTimeStamp.Format",
        ],
    ])("%s", async (_name, request, status, code) => {
        expectEcsError(await signed(request), status, code);
    });

    test("a replayed nonce → 400 SignatureNonceUsed", async () => {
        const request = { action: "DescribeKeyPairs", query: { RegionId: REGION }, nonce: randomBytes(16).toString("hex") };
        expect((await signed(request)).status).toBe(200);
        expectEcsError(await signed(request), 400, "SignatureNonceUsed");
    });

    test.each([
        ["binary bytes", Buffer.from([0xff, 0xfe, 0x00, 0x25, 0x25, 0x3d, 0x26, 0x80])],
        ["broken percent-escapes", "%E0%A4%A=%%&=&&RegionId=%ZZ"],
    ])("a form body of %s: parsed without a crash, the query's parameters still rule", async (_name, body) => {
        const reply = await signed({
            action: "DescribeKeyPairs",
            query: { RegionId: REGION },
            body,
            contentType: "application/x-www-form-urlencoded",
        });
        expect(reply.status === 200 || typeof reply.body.Code === "string").toBe(true);
        expect(reply.body.RequestId).toEqual(expect.any(String));
    });

    test("a JSON body where ECS expects none is ignored", async () => {
        const reply = await signed({
            action: "DescribeKeyPairs",
            query: { RegionId: REGION },
            body: '{"RegionId": [1, 2',
            contentType: "application/json",
        });
        expect(reply.status).toBe(200);
    });

    test("a wildcard that would backtrack exponentially as a regular expression answers at once", async () => {
        const started = Date.now();
        const reply = await signed({ action: "DescribeKeyPairs", query: { RegionId: REGION, KeyPairName: `${"*a".repeat(30)}*b` } });
        expect(reply).toMatchObject({ status: 200, body: { TotalCount: 0 } });
        expect(
            (await signed({ action: "DescribeKeyPairs", query: { RegionId: REGION, KeyPairName: `${"*a".repeat(30)}*` } })).body.TotalCount,
        ).toBe(1);
        expect(Date.now() - started).toBeLessThan(1000);
    });
});

describe("the same through the official SDK", () => {
    const client = () => ecsClient(emulator);

    test.each(["[i-1", "[1,2]", "{}"])("AttachKeyPair InstanceIds=%s → 400 InvalidInstanceIds.ValueNotSupported", async (bad) => {
        const error = await ecsErrorOf(
            client().attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "ops", instanceIds: bad })),
        );
        expect(error).toMatchObject({ code: "InvalidInstanceIds.ValueNotSupported", statusCode: 400 });
    });

    test("DescribeInstances InstanceIds=[i-1 → 400 InvalidInstanceIds.Malformed", async () => {
        const error = await ecsErrorOf(
            client().describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: "[i-1" })),
        );
        expect(error).toMatchObject({ code: "InvalidInstanceIds.Malformed", statusCode: 400 });
    });

    test("a missing KeyPairName → 400 MissingKeyPairName", async () => {
        const error = await ecsErrorOf(client().attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, instanceIds: '["i-1"]' })));
        expect(error).toMatchObject({ code: "MissingKeyPairName", statusCode: 400 });
    });

    test("limits: 51 ids to AttachKeyPair, 101 to RebootInstances", async () => {
        const attach = await ecsErrorOf(
            client().attachKeyPair(
                new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "ops", instanceIds: JSON.stringify(ids(51)) }),
            ),
        );
        expect(attach).toMatchObject({ code: "InstanceKeyPairLimitExceeded", statusCode: 403 });
        const reboot = await ecsErrorOf(
            client().rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ids(101) })),
        );
        expect(reboot).toMatchObject({ code: "InvalidParameter.TooManyInstanceIds", statusCode: 403 });
    });

    test("a bad signature (wrong secret), V3 and V1", async () => {
        for (const signatureAlgorithm of [undefined, "v2" as const]) {
            const wrong = ecsClient(emulator, { accessKeySecret: "not-the-secret", signatureAlgorithm });
            const error = await ecsErrorOf(wrong.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION })));
            expect(error).toMatchObject({ code: "SignatureDoesNotMatch", statusCode: 400 });
        }
    });
});

describe("garbage gets an ECS-shaped error, and the server keeps serving", () => {
    test("a non-ECS path, unsigned → 400 IncompleteSignature", async () => {
        expectEcsError(
            await rawRequest("GET /wp-admin/index.php?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
            400,
            "IncompleteSignature",
        );
    });

    test("a header-less request → 400 IncompleteSignature", async () => {
        expectEcsError(await rawRequest("GET / HTTP/1.0\r\n\r\n"), 400, "IncompleteSignature");
    });

    test("a query over Node's 16 KiB header limit → 431 RequestHeaderFieldsTooLarge", async () => {
        expectEcsError(
            await rawRequest(`GET /?${"InstanceId.1=i-1&".repeat(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`),
            431,
            "RequestHeaderFieldsTooLarge",
        );
    });

    test("bytes that are not HTTP → 400 MalformedRequest", async () => {
        expectEcsError(await rawRequest("\u0016\u0003\u0001 hello, this is not http\r\n\r\n"), 400, "MalformedRequest");
    });

    test("a bad Content-Length → 400 MalformedRequest", async () => {
        expectEcsError(await rawRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: lots\r\n\r\n"), 400, "MalformedRequest");
    });

    test("a body over 8 MiB → 413 RequestEntityTooLarge, without buffering it all", async () => {
        const body = Buffer.alloc(9 * 1024 * 1024, "a");
        const head = `POST / HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
        expectEcsError(await rawRequest(Buffer.concat([Buffer.from(head), body])), 413, "RequestEntityTooLarge");
    });

    test("a control path with a malformed escape → 400, not an uncaught exception", async () => {
        const response = await fetch(`${emulator.url}/_emulator/instances/%E0%A4%A/stop`, {
            method: "POST",
            signal: AbortSignal.timeout(5000),
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error: expect.stringMatching(/URI/) as unknown });
    });
});
