/** The `/_emulator/` control API, as a test or demo in another process steers the emulator. */
import * as ecs from "@alicloud/ecs20140526";
import { startEmulator, type Emulator } from "../../emulator";
import { controlCall, ecsClient, ecsErrorOf, REGION } from "./helpers";

let emulator: Emulator;

beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 0 });
});
afterAll(() => emulator.close());

test("reset, out-of-band changes and state (passwords only as passwordSet)", async () => {
    const seed = {
        accessKeys: [{ accessKeyId: "ctl-key", accessKeySecret: "ctl-secret" }],
        keyPairs: [{ name: "ops-2026" }],
        instances: [{ id: "i-1" }, { id: "i-2", status: "Stopped" }],
    };
    expect((await controlCall(emulator, "POST", "reset", seed)).status).toBe(200);
    // The seed's access key is accepted right away.
    const client = ecsClient(emulator, { accessKeyId: "ctl-key", accessKeySecret: "ctl-secret" });
    await client.modifyInstanceAttribute(new ecs.ModifyInstanceAttributeRequest({ instanceId: "i-1", password: "Secr3t-Passw0rd!" }));

    await controlCall(emulator, "POST", "keypairs", { name: "ops-2027" });
    const attached = await controlCall(emulator, "POST", "instances/i-1/attach", { keyPairName: "ops-2027" });
    expect(attached.json).toMatchObject({ id: "i-1", keyPairName: "ops-2027", passwordSet: true });
    expect(attached.json.password).toBeUndefined();
    await controlCall(emulator, "POST", "instances/i-2/start");
    await controlCall(emulator, "POST", "instances", { id: "i-3", osType: "windows" });
    await controlCall(emulator, "POST", "instances/i-3/delete");

    const state = await controlCall<{ instances: { id: string; status: string; keyPairName?: string }[]; keyPairs: { name: string }[] }>(
        emulator,
        "GET",
        "state",
    );
    expect(JSON.stringify(state.json)).not.toContain("Secr3t");
    expect(state.json.instances.map((i) => [i.id, i.status, i.keyPairName ?? null])).toEqual([
        ["i-1", "Running", "ops-2027"],
        ["i-2", "Running", null],
    ]);
    expect(state.json.keyPairs.map((k) => k.name)).toEqual(["ops-2026", "ops-2027"]);

    const refused = await controlCall(emulator, "POST", "instances/i-1/start");
    expect(refused).toMatchObject({ status: 403, json: { Code: "IncorrectInstanceStatus" } });
    expect(await controlCall(emulator, "DELETE", "keypairs/ops-2027")).toMatchObject({
        status: 400,
        json: { Code: "InvalidParameter.KeypairAlreadyAttachedInstance" },
    });
    await controlCall(emulator, "POST", "instances/i-1/detach");
    expect((await controlCall(emulator, "DELETE", "keypairs/ops-2027")).json).toEqual({ removed: true });
    expect(emulator.model.instance("i-1")?.keyPairName).toBeUndefined();
});

test("faults over HTTP (times: null = forever), the call log, and unknown routes", async () => {
    await controlCall(emulator, "POST", "reset", { instances: [{ id: "i-1" }] });
    await controlCall(emulator, "DELETE", "calls");
    const added = await controlCall<{ id: string }>(emulator, "POST", "faults", {
        action: "RebootInstances",
        code: "InternalError",
        times: null,
    });
    expect(added.json.id).toMatch(/^fault-/);
    const client = ecsClient(emulator);
    for (let i = 0; i < 2; i++) {
        expect(
            await ecsErrorOf(client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-1"] }))),
        ).toMatchObject({
            code: "InternalError",
            statusCode: 500,
        });
    }
    await controlCall(emulator, "DELETE", "faults");
    await client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-1"] }));

    await controlCall(emulator, "POST", "throttle", { action: "DescribeInstanceStatus", ratePerSecond: 0 });
    expect((await ecsErrorOf(client.describeInstanceStatus(new ecs.DescribeInstanceStatusRequest({ regionId: REGION })))).code).toBe(
        "Throttling.User",
    );
    await controlCall(emulator, "DELETE", "throttle");

    const calls = await controlCall<{ counts: Record<string, number>; calls: { status: number }[] }>(emulator, "GET", "calls");
    expect(calls.json.counts).toEqual({ RebootInstances: 3, DescribeInstanceStatus: 1 });
    expect(calls.json.calls.map((c) => c.status)).toEqual([500, 500, 200, 400]);
    expect((await controlCall(emulator, "GET", "nothing-here")).status).toBe(404);
    expect((await controlCall(emulator, "POST", "reset", { instances: [{}] })).status).toBe(400);
});
