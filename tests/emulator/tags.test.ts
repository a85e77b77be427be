/** TagResources/UntagResources, Tags.Tag[] and StartTime in DescribeInstances, through the SDK. */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { ManualClock, startEmulator, type Emulator } from "../../emulator";
import { ecsClient, ecsErrorOf, REGION } from "./helpers";

let emulator: Emulator;
let client: Client;
// Mid-minute, so that StartTime's minute precision shows.
const clock = new ManualClock(Date.UTC(2026, 11, 1, 4, 4, 30));

beforeAll(async () => {
    emulator = await startEmulator({ clock });
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => emulator.model.reset({ instances: [{ id: "i-a" }, { id: "i-b" }, { id: "i-stopped", status: "Stopped" }] }));

const tag = (key: string, value?: string) => new ecs.TagResourcesRequestTag({ key, value });
const tagResources = (ids: string[], tags: ecs.TagResourcesRequestTag[], resourceType = "instance") =>
    client.tagResources(new ecs.TagResourcesRequest({ regionId: REGION, resourceType, resourceId: ids, tag: tags }));
const untagResources = (ids: string[], tagKey: string[], all?: boolean) =>
    client.untagResources(new ecs.UntagResourcesRequest({ regionId: REGION, resourceType: "instance", resourceId: ids, tagKey, all }));

async function describeAll(): Promise<Record<string, { tags: [string?, string?][]; startTime?: string }>> {
    const response = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION }));
    return Object.fromEntries(
        (response.body?.instances?.instance ?? []).map((i) => [
            i.instanceId ?? "",
            { tags: (i.tags?.tag ?? []).map((t) => [t.tagKey, t.tagValue] as [string?, string?]), startTime: i.startTime },
        ]),
    );
}

describe("TagResources / UntagResources", () => {
    test("tags show in DescribeInstances; a key is overwritten; untag removes keys or All", async () => {
        await tagResources(["i-a", "i-b"], [tag("pulumi-kpa:restart", "ops@2026-12-01T04:04Z"), tag("team", "web")]);
        await tagResources(["i-a"], [tag("team", "api")]);
        let instances = await describeAll();
        expect(instances["i-a"].tags).toEqual([
            ["pulumi-kpa:restart", "ops@2026-12-01T04:04Z"],
            ["team", "api"],
        ]);
        expect(instances["i-b"].tags).toEqual([
            ["pulumi-kpa:restart", "ops@2026-12-01T04:04Z"],
            ["team", "web"],
        ]);
        expect(instances["i-stopped"].tags).toEqual([]);

        const filtered = await client.describeInstances(
            new ecs.DescribeInstancesRequest({
                regionId: REGION,
                tag: [new ecs.DescribeInstancesRequestTag({ key: "team", value: "web" })],
            }),
        );
        expect(filtered.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(["i-b"]);

        await untagResources(["i-a", "i-b"], ["pulumi-kpa:restart"]);
        instances = await describeAll();
        expect(instances["i-a"].tags).toEqual([["team", "api"]]);
        await untagResources(["i-b"], [], true);
        expect((await describeAll())["i-b"].tags).toEqual([]);
    });

    const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i}`);
    const tags = (n: number) => Array.from({ length: n }, (_, i) => tag(`k${i}`, "v"));

    test.each([
        ["51 resource ids", () => tagResources(ids(51), [tag("k", "v")]), "InvalidResourceId.TooMany", 400],
        ["21 tags", () => tagResources(["i-a"], tags(21)), "InvalidTag.TooMany", 400],
        ["21 tag keys to remove", () => untagResources(["i-a"], ids(21)), "InvalidTag.TooMany", 400],
        ["an unknown instance", () => tagResources(["i-a", "i-gone"], [tag("k", "v")]), "InvalidResourceId.NotFound", 404],
        ["another resource type", () => tagResources(["i-a"], [tag("k", "v")], "disk"), "InvalidResourceType.NotFound", 400],
        ["an aliyun key", () => tagResources(["i-a"], [tag("aliyun:x", "v")]), "InvalidTagKey.Malformed", 400],
        ["a 129-character value", () => tagResources(["i-a"], [tag("k", "v".repeat(129))]), "InvalidTagValue.Malformed", 400],
        ["a duplicate key", () => tagResources(["i-a"], [tag("k", "1"), tag("k", "2")]), "InvalidTagKey.Duplicate", 400],
    ])("refuses %s", async (_, call, code, statusCode) => {
        expect(await ecsErrorOf(call())).toMatchObject({ code, statusCode });
        expect(emulator.model.instance("i-a")?.tags).toEqual({});
    });

    test("an instance holds at most 20 tags; a call that would pass that changes nothing", async () => {
        await tagResources(["i-a"], tags(20));
        expect(await ecsErrorOf(tagResources(["i-b", "i-a"], [tag("one-more", "v")]))).toMatchObject({
            code: "OperationDenied.QuotaExceed",
            statusCode: 403,
        });
        expect(emulator.model.instance("i-b")?.tags).toEqual({});
        // Overwriting an existing key stays within the quota.
        await tagResources(["i-a"], [tag("k0", "new")]);
        expect(emulator.model.instance("i-a")?.tags.k0).toBe("new");
    });
});

describe("StartTime", () => {
    test("is given to the minute (2017-12-10T04:04Z) and moves on every reboot and start", async () => {
        const before = await describeAll();
        expect(before["i-a"].startTime).toBe("2026-12-01T04:04Z");
        await client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a"] }));
        await client.startInstances(new ecs.StartInstancesRequest({ regionId: REGION, instanceId: ["i-stopped"] }));
        // A fast reboot ends in the same wall-clock minute; StartTime still moves (to the next minute).
        clock.advance(8000);
        const after = await describeAll();
        expect(emulator.model.instance("i-a")?.status).toBe("Running");
        expect(after["i-a"].startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
        expect(after["i-a"].startTime).not.toBe(before["i-a"].startTime);
        expect(after["i-stopped"].startTime).not.toBe(before["i-stopped"].startTime);
        expect(after["i-b"].startTime).toBe(before["i-b"].startTime);
    });
});
