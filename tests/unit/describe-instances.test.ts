/**
 * DescribeInstances read from the plain JSON body (provider/ecs/describe-instances.ts) gives the
 * same facts the SDK's response classes gave, over real answers of the emulator, and reads an
 * untidy body (missing fields, strings for booleans and numbers) the way the SDK's cast does.
 */
import * as ecs from "@alicloud/ecs20140526";
import * as dara from "@darabonba/typescript";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Emulator, startEmulator } from "../../emulator";
import { describeInstancesPage, readDescribeInstancesBody } from "../../provider/ecs/describe-instances";
import type { InstanceFacts } from "../../provider/ecs/instance";
import { REGION, ecsClient, ecsErrorOf } from "../emulator/helpers";

let emulator: Emulator;
const runtime = new dara.RuntimeOptions({ autoretry: false });

const HOLDERS = Array.from({ length: 12 }, (_, i) => `i-holder-${String(i).padStart(2, "0")}`);

beforeAll(async () => {
    emulator = await startEmulator({
        timeScale: 0,
        seed: {
            keyPairs: [{ name: "ops" }, { name: "other" }],
            instances: [
                { id: "i-plain" },
                {
                    id: "i-tagged",
                    keyPairName: "ops",
                    osType: "windows",
                    ioOptimized: false,
                    lockedForSecurity: true,
                    tags: { team: "web", "pulumi-kpa:restart-owed": "ops@2026-12-01T10:00Z", empty: "" },
                },
                { id: "i-stopped", status: "Stopped", keyPairName: "other" },
                ...HOLDERS.map((id) => ({ id, keyPairName: "ops" })),
            ],
        },
    });
});
afterAll(() => emulator.close());

/** What the gateway read from the SDK's response classes before (the reference). */
function fromSdkModel(instance: ecs.DescribeInstancesResponseBodyInstancesInstance): InstanceFacts {
    const truthy = (value: unknown) => value === true || value === "true";
    return {
        instanceId: instance.instanceId!,
        status: instance.status ?? "Unknown",
        osType: instance.OSType ?? "linux",
        ioOptimized: truthy(instance.ioOptimized),
        keyPairName: instance.keyPairName || undefined,
        lockedForSecurity: (instance.operationLocks?.lockReason ?? []).some((l) => l.lockReason === "security"),
        startTime: instance.startTime || undefined,
        tags: Object.fromEntries((instance.tags?.tag ?? []).filter((t) => t.tagKey).map((t) => [t.tagKey!, t.tagValue ?? ""])),
    };
}

describe("DescribeInstances from the plain body", () => {
    it("gives the facts the SDK's response classes gave, for instance ids", async () => {
        const client = ecsClient(emulator);
        const instanceIds = JSON.stringify(["i-plain", "i-tagged", "i-stopped", "i-missing"]);
        const raw = await describeInstancesPage(client, { regionId: REGION, instanceIds, maxResults: 100 }, runtime);
        const sdk = await client.describeInstancesWithOptions(
            new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds, maxResults: 100 }),
            runtime,
        );
        const expected = (sdk.body?.instances?.instance ?? []).map(fromSdkModel);
        expect(raw.instances).toEqual(expected);
        expect(raw.instances.map((i) => i.instanceId).sort()).toEqual(["i-plain", "i-stopped", "i-tagged"]);
        expect(raw.instances.find((i) => i.instanceId === "i-tagged")).toMatchObject({
            keyPairName: "ops",
            osType: "windows",
            ioOptimized: false,
            lockedForSecurity: true,
            tags: { team: "web", "pulumi-kpa:restart-owed": "ops@2026-12-01T10:00Z", empty: "" },
        });
        expect(raw.instances.find((i) => i.instanceId === "i-plain")).toMatchObject({ status: "Running", ioOptimized: true, tags: {} });
        expect(raw.instances.find((i) => i.instanceId === "i-plain")?.keyPairName).toBeUndefined();
        expect(raw.nextToken).toBeUndefined();
    });

    it("pages by KeyPairName with NextToken as the SDK does", async () => {
        const client = ecsClient(emulator);
        const first = await describeInstancesPage(client, { regionId: REGION, keyPairName: "ops", maxResults: 10 }, runtime);
        expect(first.instances).toHaveLength(10);
        expect(first.nextToken).toBeDefined();
        const sdkFirst = await client.describeInstancesWithOptions(
            new ecs.DescribeInstancesRequest({ regionId: REGION, keyPairName: "ops", maxResults: 10 }),
            runtime,
        );
        expect(first.nextToken).toBe(sdkFirst.body?.nextToken);
        expect(first.instances).toEqual((sdkFirst.body?.instances?.instance ?? []).map(fromSdkModel));
        const second = await describeInstancesPage(
            client,
            { regionId: REGION, keyPairName: "ops", maxResults: 10, nextToken: first.nextToken },
            runtime,
        );
        expect(second.nextToken).toBeUndefined();
        expect([...first.instances, ...second.instances].map((i) => i.instanceId).sort()).toEqual(["i-tagged", ...HOLDERS].sort());
    });

    it("fails with the SDK's own error (code, status, request id)", async () => {
        const client = ecsClient(emulator);
        const raw = await ecsErrorOf(describeInstancesPage(client, { regionId: REGION, instanceIds: "not json" }, runtime));
        const sdk = await ecsErrorOf(
            client.describeInstancesWithOptions(new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: "not json" }), runtime),
        );
        expect(raw.code).toBe(sdk.code);
        expect(raw.statusCode).toBe(sdk.statusCode);
        expect(raw.code).not.toBe("");
        expect(raw.data.RequestId).toBeDefined();
    });

    it("fails on a 200 answer that is not JSON with the SDK's own SyntaxError", async () => {
        const page = "<html><body>upstream says hello</body></html>";
        const server = createServer((_, res) => res.writeHead(200, { "content-type": "text/html" }).end(page));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const client = new ecs.default(
                new $OpenApiUtil.Config({
                    accessKeyId: "id",
                    accessKeySecret: "secret",
                    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
                    protocol: "http",
                    regionId: REGION,
                }),
            );
            const raw = await describeInstancesPage(client, { regionId: REGION, instanceIds: "[]" }, runtime).catch((e: unknown) => e);
            const sdk = await client
                .describeInstancesWithOptions(new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: "[]" }), runtime)
                .catch((e: unknown) => e);
            expect(raw).toBeInstanceOf(SyntaxError);
            expect(sdk).toBeInstanceOf(SyntaxError);
            expect((raw as Error).message).toBe((sdk as Error).message);
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
    });

    it("reads an untidy body as the SDK's cast would", () => {
        const page = readDescribeInstancesBody({
            Instances: {
                Instance: [
                    {
                        InstanceId: "i-a",
                        IoOptimized: "true",
                        StartTime: "",
                        KeyPairName: "",
                        Tags: { Tag: [{ TagKey: "k" }, { TagValue: "x" }] },
                    },
                    { InstanceId: "i-b", IoOptimized: 1, Status: 7, OperationLocks: { LockReason: [{ LockReason: "security" }] } },
                    { Status: "Running" },
                    null,
                    "i-c",
                ],
            },
            NextToken: "",
        });
        expect(page).toEqual({
            instances: [
                {
                    instanceId: "i-a",
                    status: "Unknown",
                    osType: "linux",
                    ioOptimized: true,
                    keyPairName: undefined,
                    lockedForSecurity: false,
                    startTime: undefined,
                    tags: { k: "" },
                },
                {
                    instanceId: "i-b",
                    status: "7",
                    osType: "linux",
                    ioOptimized: true,
                    keyPairName: undefined,
                    lockedForSecurity: true,
                    startTime: undefined,
                    tags: {},
                },
            ],
            nextToken: undefined,
        });
        expect(readDescribeInstancesBody(undefined)).toEqual({ instances: [], nextToken: undefined });
        expect(readDescribeInstancesBody({ Instances: { Instance: "none" }, NextToken: "t" })).toEqual({ instances: [], nextToken: "t" });
    });
});
