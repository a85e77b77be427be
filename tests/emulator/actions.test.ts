/** Every action through the unmodified official SDK over real HTTP (default V3 signing). */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { ManualClock, startEmulator, type Emulator, type Seed } from "../../emulator";
import { ecsClient, ecsErrorOf, REGION, sendSignedV3 } from "./helpers";

const SEED: Seed = {
    keyPairs: [{ name: "ops-2026" }, { name: "ops-2027" }, { name: "sh-key", region: "cn-shanghai" }],
    instances: [
        { id: "i-run1", name: "web-1", keyPairName: "ops-2026" },
        { id: "i-run2", name: "web-2" },
        { id: "i-stop", name: "batch-1", status: "Stopped" },
        { id: "i-win", osType: "windows" },
        { id: "i-noio", ioOptimized: false },
        { id: "i-locked", lockedForSecurity: true },
        { id: "i-sh", region: "cn-shanghai" },
    ],
};

let emulator: Emulator;
let client: Client;
const clock = new ManualClock();

beforeAll(async () => {
    emulator = await startEmulator({ clock });
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
    emulator.model.reset(SEED);
    emulator.faults.clear();
    emulator.resetCalls();
});

const ids = (...list: string[]) => JSON.stringify(list);

describe("AttachKeyPair", () => {
    test("binds at once in DescribeInstances; the guest key changes only at the next boot", async () => {
        const response = await client.attachKeyPair(
            new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "ops-2027", instanceIds: ids("i-run1", "i-stop") }),
        );
        expect(Number(response.body?.failCount)).toBe(0);
        expect(emulator.model.instance("i-run1")).toMatchObject({ keyPairName: "ops-2027", effectiveKeyPairName: "ops-2026" });
        expect(emulator.model.instance("i-stop")).toMatchObject({ keyPairName: "ops-2027", effectiveKeyPairName: undefined });
    });

    test("per-instance failures come back in HTTP 200 with FailCount; the rest succeed", async () => {
        const response = await client.attachKeyPair(
            new ecs.AttachKeyPairRequest({
                regionId: REGION,
                keyPairName: "ops-2027",
                instanceIds: ids("i-run2", "i-win", "i-noio", "i-missing", "i-sh"),
            }),
        );
        expect(response.statusCode).toBe(200);
        expect(response.body?.totalCount).toBe("5");
        expect(response.body?.failCount).toBe("4");
        const codes = Object.fromEntries((response.body?.results?.result ?? []).map((r) => [r.instanceId ?? "", r.code]));
        expect(codes).toEqual({
            "i-run2": "200",
            "i-win": "DependencyViolation.WindowsInstance",
            "i-noio": "DependencyViolation.IoOptimize",
            "i-missing": "InvalidInstanceId.NotFound",
            // Another region's instance is invisible to a cn-hangzhou request.
            "i-sh": "InvalidInstanceId.NotFound",
        });
        expect(emulator.model.instance("i-run2")?.keyPairName).toBe("ops-2027");
        expect(emulator.model.instance("i-win")?.keyPairName).toBeUndefined();
    });

    test('raw JSON carries numbers and booleans, Code the string "200"', async () => {
        const { status, body } = await sendSignedV3(emulator, {
            action: "AttachKeyPair",
            query: { RegionId: REGION, KeyPairName: "ops-2027", InstanceIds: ids("i-run2", "i-win") },
        });
        expect(status).toBe(200);
        expect(body).toMatchObject({ TotalCount: 2, FailCount: 1, KeyPairName: "ops-2027" });
        expect((body.Results as { Result: unknown[] }).Result[0]).toEqual({
            InstanceId: "i-run2",
            Success: true,
            Code: "200",
            Message: "successful",
        });
        expect(body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    });

    test("a Starting instance fails with IncorrectInstanceStatus inside the batch", async () => {
        emulator.model.setStatus("i-run2", "Starting");
        const response = await client.attachKeyPair(
            new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "ops-2027", instanceIds: ids("i-run2") }),
        );
        expect(response.body?.results?.result?.[0].code).toBe("IncorrectInstanceStatus");
    });

    test.each([
        [
            "more than 50 ids",
            { keyPairName: "ops-2027", instanceIds: JSON.stringify(Array.from({ length: 51 }, (_, i) => `i-${i}`)) },
            "InstanceKeyPairLimitExceeded",
            403,
        ],
        ["unknown key pair", { keyPairName: "nope", instanceIds: ids("i-run2") }, "InvalidKeyPairName.NotFound", 400],
        ["key pair of another region", { keyPairName: "sh-key", instanceIds: ids("i-run2") }, "InvalidKeyPairName.NotFound", 400],
        ["malformed InstanceIds", { keyPairName: "ops-2027", instanceIds: "i-run2" }, "InvalidInstanceIds.ValueNotSupported", 400],
    ])("request-level error: %s", async (_name, fields, code, status) => {
        const error = await ecsErrorOf(client.attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, ...fields })));
        expect(error).toMatchObject({ code, statusCode: status });
        expect(emulator.model.instance("i-run2")?.keyPairName).toBeUndefined();
    });

    test("RegionId is required", async () => {
        const error = await ecsErrorOf(
            client.attachKeyPair(new ecs.AttachKeyPairRequest({ keyPairName: "ops-2027", instanceIds: ids("i-run2") })),
        );
        expect(error).toMatchObject({ code: "MissingRegionId", statusCode: 400 });
        expect(error.data).toMatchObject({ HostId: emulator.endpoint, Code: "MissingRegionId" });
        expect(String(error.data.Recommend)).toContain("q=MissingRegionId");
    });
});

describe("DetachKeyPair", () => {
    test("unbinds the holder, is a no-op without a key, refuses another key", async () => {
        emulator.model.attachKeyPair("i-run2", "ops-2027");
        const response = await client.detachKeyPair(
            new ecs.DetachKeyPairRequest({ regionId: REGION, keyPairName: "ops-2026", instanceIds: ids("i-run1", "i-stop", "i-run2") }),
        );
        const codes = (response.body?.results?.result ?? []).map((r) => [r.instanceId, r.code, r.success]);
        expect(codes).toEqual([
            ["i-run1", "200", "true"],
            ["i-stop", "200", "true"],
            ["i-run2", "InvalidKeyPairName.NotMatch", "false"],
        ]);
        expect(response.body?.failCount).toBe("1");
        expect(emulator.model.instance("i-run1")).toMatchObject({ keyPairName: undefined, effectiveKeyPairName: "ops-2026" });
        expect(emulator.model.instance("i-run2")?.keyPairName).toBe("ops-2027");
    });
});

describe("DescribeInstances", () => {
    test("filters by KeyPairName, ids (unknown ones omitted), Status; KeyPairName omitted when unbound", async () => {
        const byKey = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, keyPairName: "ops-2026" }));
        expect(byKey.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(["i-run1"]);

        const byIds = await client.describeInstances(
            new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: ids("i-run2", "i-noio", "i-gone", "i-sh") }),
        );
        const found = byIds.body?.instances?.instance ?? [];
        expect(found.map((i) => i.instanceId)).toEqual(["i-run2", "i-noio"]);
        expect(found[0]).toMatchObject({ status: "Running", OSType: "linux", ioOptimized: true, regionId: REGION });
        expect(found[0].keyPairName).toBeUndefined();
        expect(found[1].ioOptimized).toBe(false);

        const stopped = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, status: "Stopped" }));
        expect(stopped.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(["i-stop"]);

        const { body } = await sendSignedV3(emulator, {
            action: "DescribeInstances",
            query: { RegionId: REGION, InstanceIds: ids("i-run1", "i-run2") },
        });
        const raw = (body.Instances as { Instance: Record<string, unknown>[] }).Instance;
        expect(raw[0].KeyPairName).toBe("ops-2026");
        expect("KeyPairName" in raw[1]).toBe(false);
        expect(raw[1].IoOptimized).toBe(true);
        expect(raw[0].OperationLocks).toEqual({ LockReason: [] });
    });

    test("InstanceIds are looked up by id: seeded order whatever the order asked, unknown ids and other regions' left out", async () => {
        const { body } = await sendSignedV3(emulator, {
            action: "DescribeInstances",
            query: { RegionId: REGION, InstanceIds: ids("i-stop", "i-nope", "i-sh", "i-run2", "i-run1", "i-run1") },
        });
        const listed = (body.Instances as { Instance: { InstanceId: string }[] }).Instance.map((i) => i.InstanceId);
        const all = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 100 }));
        const seeded = (all.body?.instances?.instance ?? []).map((i) => i.instanceId);
        expect(listed).toEqual(seeded.filter((id) => id === "i-run1" || id === "i-run2" || id === "i-stop"));
        expect(body.TotalCount ?? listed.length).toBe(3);
    });

    test("a request for another region sees only that region", async () => {
        const response = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: "cn-shanghai" }));
        expect(response.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(["i-sh"]);
    });

    test("more than 100 ids → 403 InvalidParameter.TooManyInstanceIds; bad JSON → 400", async () => {
        const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => `i-${i}`));
        expect(
            await ecsErrorOf(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: many }))),
        ).toMatchObject({
            code: "InvalidParameter.TooManyInstanceIds",
            statusCode: 403,
        });
        expect(
            await ecsErrorOf(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: "[i-1" }))),
        ).toMatchObject({
            code: "InvalidInstanceIds.Malformed",
            statusCode: 400,
        });
    });

    test("NextToken paging over 250 instances; deprecated PageNumber/PageSize too", async () => {
        emulator.model.reset({ instances: Array.from({ length: 250 }, (_, i) => ({ id: `i-${String(i).padStart(3, "0")}` })) });
        const seen: string[] = [];
        const pageSizes: number[] = [];
        let nextToken: string | undefined;
        do {
            const page = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 100, nextToken }));
            const batch = page.body?.instances?.instance ?? [];
            pageSizes.push(batch.length);
            seen.push(...batch.map((i) => i.instanceId ?? ""));
            nextToken = page.body?.nextToken || undefined;
        } while (nextToken);
        expect(pageSizes).toEqual([100, 100, 50]);
        expect(new Set(seen).size).toBe(250);

        // MaxResults below 10 means 10 (SDK remark).
        const small = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 3 }));
        expect(small.body?.instances?.instance).toHaveLength(10);

        const page3 = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, pageNumber: 3, pageSize: 100 }));
        expect(page3.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(seen.slice(200));
        expect(page3.body?.totalCount).toBe(250);
        expect(
            await ecsErrorOf(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, pageSize: 101 }))),
        ).toMatchObject({
            code: "InvalidParameter",
            statusCode: 400,
        });
    });
});

describe("DescribeInstanceStatus", () => {
    test("statuses by InstanceId.N with paging; limits", async () => {
        const response = await client.describeInstanceStatus(
            new ecs.DescribeInstanceStatusRequest({ regionId: REGION, instanceId: ["i-run1", "i-stop", "i-win"], pageSize: 2 }),
        );
        expect(response.body?.totalCount).toBe(3);
        expect(response.body?.instanceStatuses?.instanceStatus?.map((s) => [s.instanceId, s.status])).toEqual([
            ["i-run1", "Running"],
            ["i-stop", "Stopped"],
        ]);
        const all = await client.describeInstanceStatus(new ecs.DescribeInstanceStatusRequest({ regionId: REGION, pageSize: 50 }));
        expect(all.body?.totalCount).toBe(6);

        const many = Array.from({ length: 101 }, (_, i) => `i-${i}`);
        expect(
            await ecsErrorOf(client.describeInstanceStatus(new ecs.DescribeInstanceStatusRequest({ regionId: REGION, instanceId: many }))),
        ).toMatchObject({
            code: "InvalidParameter.TooManyInstanceIds",
            statusCode: 403,
        });
        expect(
            await ecsErrorOf(client.describeInstanceStatus(new ecs.DescribeInstanceStatusRequest({ regionId: REGION, pageSize: 51 }))),
        ).toMatchObject({
            code: "InvalidParameter",
            statusCode: 400,
        });
    });
});

describe("DescribeKeyPairs", () => {
    test.each([
        ["ops-*", ["ops-2026", "ops-2027"]],
        ["*2027", ["ops-2027"]],
        ["*s-20*", ["ops-2026", "ops-2027"]],
        ["ops-2026", ["ops-2026"]],
        ["ops", []],
    ])("KeyPairName %s", async (pattern, expected) => {
        const response = await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION, keyPairName: pattern }));
        expect(response.body?.keyPairs?.keyPair?.map((k) => k.keyPairName)).toEqual(expected);
    });

    test("pages, and sees only its region", async () => {
        const page2 = await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION, pageSize: 1, pageNumber: 2 }));
        expect(page2.body?.keyPairs?.keyPair?.map((k) => k.keyPairName)).toEqual(["ops-2027"]);
        expect(page2.body?.totalCount).toBe(2);
        const shanghai = await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: "cn-shanghai" }));
        expect(shanghai.body?.keyPairs?.keyPair?.map((k) => k.keyPairName)).toEqual(["sh-key"]);
        expect(
            await ecsErrorOf(client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION, pageSize: 51 }))),
        ).toMatchObject({
            statusCode: 400,
        });
        expect(await ecsErrorOf(client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: "xx-nowhere-1" })))).toMatchObject({
            code: "InvalidRegionId.NotFound",
            statusCode: 404,
        });
    });
});

describe("DescribeInstanceAttribute", () => {
    test("flat body with IoOptimized as a string; 404 for an unknown id", async () => {
        const io = await client.describeInstanceAttribute(new ecs.DescribeInstanceAttributeRequest({ instanceId: "i-run1" }));
        expect(io.body).toMatchObject({ instanceId: "i-run1", instanceName: "web-1", status: "Running", ioOptimized: "optimized" });
        const none = await client.describeInstanceAttribute(new ecs.DescribeInstanceAttributeRequest({ instanceId: "i-noio" }));
        expect(none.body?.ioOptimized).toBe("none");
        expect(
            await ecsErrorOf(client.describeInstanceAttribute(new ecs.DescribeInstanceAttributeRequest({ instanceId: "i-x" }))),
        ).toMatchObject({
            code: "InvalidInstanceId.NotFound",
            statusCode: 404,
        });
    });
});

describe("ModifyInstanceAttribute", () => {
    const PASSWORD = "Secr3t-Passw0rd!";

    test("stores the password (effective after the next boot) and never echoes or records it", async () => {
        const response = await client.modifyInstanceAttribute(
            new ecs.ModifyInstanceAttributeRequest({ instanceId: "i-run2", password: PASSWORD, instanceName: "renamed" }),
        );
        expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
        expect(emulator.model.instance("i-run2")).toMatchObject({ password: PASSWORD, passwordEffective: false, name: "renamed" });
        expect(emulator.calls[0].params.Password).toBe("******");
        expect(JSON.stringify(emulator.calls)).not.toContain(PASSWORD);
    });

    test.each(["Sh0rt!a", "alllowercaseletters1", "NoSpecialsOrDigits", "Bad pass word 1A", `Aa1!${"x".repeat(27)}`])(
        "refuses malformed password %#",
        async (password) => {
            const error = await ecsErrorOf(
                client.modifyInstanceAttribute(new ecs.ModifyInstanceAttributeRequest({ instanceId: "i-run2", password })),
            );
            expect(error).toMatchObject({ code: "InvalidPassword.Malformed", statusCode: 400 });
            expect(JSON.stringify(error.data)).not.toContain(password);
        },
    );

    test("accepts the boundaries: 8 and 30 characters, three classes", async () => {
        for (const password of ["abcDEF12", `Aa1${"b".repeat(27)}`]) {
            await client.modifyInstanceAttribute(new ecs.ModifyInstanceAttributeRequest({ instanceId: "i-run2", password }));
            expect(emulator.model.instance("i-run2")?.password).toBe(password);
        }
    });

    test("refused while Starting", async () => {
        emulator.model.setStatus("i-run2", "Starting");
        expect(
            await ecsErrorOf(
                client.modifyInstanceAttribute(new ecs.ModifyInstanceAttributeRequest({ instanceId: "i-run2", password: PASSWORD })),
            ),
        ).toMatchObject({
            code: "IncorrectInstanceStatus",
            statusCode: 403,
        });
        expect(emulator.model.instance("i-run2")?.password).toBeUndefined();
    });
});
