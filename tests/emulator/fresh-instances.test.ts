/** RunInstances/DeleteInstances and the initialization window of fresh instances, through the SDK, on a ManualClock. */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { ManualClock, startEmulator, type Emulator } from "../../emulator";
import { controlCall, ecsClient, ecsErrorOf, REGION } from "./helpers";

// Durations before timeScale: Pending 2 s, Starting 5 s; initialization 60 s.
const PENDING_MS = 2000;
const STARTING_MS = 5000;
const INITIALIZATION_MS = 60_000;

let emulator: Emulator;
let client: Client;
const clock = new ManualClock();

beforeAll(async () => {
    emulator = await startEmulator({ clock, settings: { initializationMs: INITIALIZATION_MS } });
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
    emulator.model.reset({ keyPairs: [{ name: "ops" }], settings: { initializingAnswer: "Initializing" } });
    emulator.faults.clear();
});

async function runInstances(amount: number, extra: Partial<ecs.RunInstancesRequest> = {}): Promise<string[]> {
    const response = await client.runInstances(
        new ecs.RunInstancesRequest({
            regionId: REGION,
            imageId: "aliyun_3_x64_20G_alibase_20250101.vhd",
            instanceType: "ecs.g7.large",
            amount,
            ...extra,
        }),
    );
    return response.body?.instanceIdSets?.instanceIdSet ?? [];
}

const attach = (ids: string[]) =>
    client.attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "ops", instanceIds: JSON.stringify(ids) }));

describe("RunInstances", () => {
    test("creates Amount instances that go Pending → Starting → Running and appear in DescribeInstances", async () => {
        const ids = await runInstances(3, { instanceName: "web", tag: [new ecs.RunInstancesRequestTag({ key: "team", value: "ops" })] });
        expect(ids).toHaveLength(3);
        expect(new Set(ids).size).toBe(3);
        for (const id of ids) expect(id).toMatch(/^i-[a-z0-9]+$/);
        const statuses = () => ids.map((id) => emulator.model.instance(id)?.status);
        expect(statuses()).toEqual(["Pending", "Pending", "Pending"]);
        clock.advance(PENDING_MS);
        expect(statuses()).toEqual(["Starting", "Starting", "Starting"]);
        clock.advance(STARTING_MS);
        expect(statuses()).toEqual(["Running", "Running", "Running"]);

        const described = await client.describeInstances(
            new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(ids) }),
        );
        const items = described.body?.instances?.instance ?? [];
        expect(items.map((i) => [i.instanceName, i.status, i.tags?.tag?.[0]?.tagKey, i.tags?.tag?.[0]?.tagValue])).toEqual(
            ids.map(() => ["web", "Running", "team", "ops"]),
        );
    });

    test("a KeyPairName given at creation is bound and written by the first boot", async () => {
        const [id] = await runInstances(1, { keyPairName: "ops" });
        expect(emulator.model.instance(id)).toMatchObject({ keyPairName: "ops", effectiveKeyPairName: undefined });
        clock.advance(PENDING_MS + STARTING_MS);
        expect(emulator.model.instance(id)).toMatchObject({ keyPairName: "ops", effectiveKeyPairName: "ops", status: "Running" });
    });

    test.each([
        ["Amount 0", { amount: 0 }, "InvalidAmount.ValueNotSupported", 400],
        ["Amount 101", { amount: 101 }, "InvalidAmount.ValueNotSupported", 400],
        ["an unknown key pair", { keyPairName: "nope" }, "InvalidKeyPairName.NotFound", 400],
        ["no ImageId", { imageId: "" }, "MissingImageId", 400],
    ])("refuses %s", async (_, extra, code, statusCode) => {
        expect(await ecsErrorOf(runInstances(1, extra as Partial<ecs.RunInstancesRequest>))).toMatchObject({ code, statusCode });
    });
});

describe("the initialization window", () => {
    test("AttachKeyPair answers IncorrectInstanceStatus.Initializing per instance inside Results, until the window ends", async () => {
        emulator.model.addInstance({ id: "i-old" });
        const [fresh] = await runInstances(1);
        clock.advance(PENDING_MS + STARTING_MS);
        expect(emulator.model.instance(fresh)?.status).toBe("Running");

        const response = await attach([fresh, "i-old"]);
        expect(response.statusCode).toBe(200);
        expect(response.body?.failCount).toBe("1");
        expect(response.body?.results?.result?.map((r) => [r.instanceId, r.code, r.success])).toEqual([
            // The SDK turns booleans into strings.
            [fresh, "IncorrectInstanceStatus.Initializing", "false"],
            ["i-old", "200", "true"],
        ]);

        clock.advance(INITIALIZATION_MS);
        expect((await attach([fresh])).body?.failCount).toBe("0");
        expect(emulator.model.instance(fresh)?.keyPairName).toBe("ops");
    });

    test("RebootInstances refuses a fresh instance with Initializing (the whole AllTogether batch, one SuccessFirst entry)", async () => {
        emulator.model.addInstance({ id: "i-old" });
        const [fresh] = await runInstances(1);
        clock.advance(PENDING_MS + STARTING_MS);
        const reboot = (mode?: string) =>
            client.rebootInstances(
                new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: [fresh, "i-old"], batchOptimization: mode }),
            );

        expect(await ecsErrorOf(reboot())).toMatchObject({ code: "IncorrectInstanceStatus.Initializing", statusCode: 403 });
        expect(emulator.model.instance("i-old")?.status).toBe("Running");
        const responses = (await reboot("SuccessFirst")).body?.instanceResponses?.instanceResponse ?? [];
        expect(responses.map((r) => [r.instanceId, r.code])).toEqual([
            [fresh, "IncorrectInstanceStatus.Initializing"],
            ["i-old", "200"],
        ]);
    });

    test("with initializingAnswer ServiceUnavailable (set over the control API) the whole request gets 503", async () => {
        emulator.model.addInstance({ id: "i-old" });
        const [fresh] = await runInstances(1);
        clock.advance(PENDING_MS + STARTING_MS);
        expect((await controlCall(emulator, "POST", "settings", { initializingAnswer: "ServiceUnavailable" })).json).toMatchObject({
            initializingAnswer: "ServiceUnavailable",
            initializationMs: INITIALIZATION_MS,
        });

        expect(await ecsErrorOf(attach([fresh, "i-old"]))).toMatchObject({ code: "ServiceUnavailable", statusCode: 503 });
        expect(emulator.model.instance("i-old")?.keyPairName).toBeUndefined();
        expect(
            await ecsErrorOf(client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: [fresh] }))),
        ).toMatchObject({ code: "ServiceUnavailable", statusCode: 503 });
        // Requests that name only settled instances are unaffected.
        expect((await attach(["i-old"])).body?.failCount).toBe("0");

        clock.advance(INITIALIZATION_MS);
        expect((await attach([fresh])).body?.failCount).toBe("0");
    });

    test("a seeded instance marked fresh is initializing too; window 0 turns it off", () => {
        emulator.model.addInstance({ id: "i-new", fresh: true });
        expect(emulator.model.instance("i-new")?.initializing).toBe(true);
        emulator.model.updateSettings({ initializationMs: 0 });
        expect(emulator.model.instance("i-new")?.initializing).toBe(false);
        emulator.model.updateSettings({ initializationMs: INITIALIZATION_MS });
    });
});

describe("DeleteInstances", () => {
    test("releases Stopped instances; Running ones only with Force; unknown ids refuse the whole call", async () => {
        emulator.model.addInstance({ id: "i-stopped", status: "Stopped" });
        emulator.model.addInstance({ id: "i-running" });
        const remove = (ids: string[], force?: boolean) =>
            client.deleteInstances(new ecs.DeleteInstancesRequest({ regionId: REGION, instanceId: ids, force }));

        expect(await ecsErrorOf(remove(["i-stopped", "i-running"]))).toMatchObject({ code: "IncorrectInstanceStatus", statusCode: 403 });
        expect(await ecsErrorOf(remove(["i-stopped", "i-gone"]))).toMatchObject({ code: "InvalidInstanceIds.NotFound", statusCode: 404 });
        expect(emulator.model.instance("i-stopped")).toBeDefined();

        await remove(["i-stopped"]);
        await remove(["i-running"], true);
        expect(emulator.model.instances()).toEqual([]);
    });
});
