/** Reboot/Start/Stop through the SDK, and the timed transitions behind them, driven by a ManualClock. */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { ManualClock, startEmulator, type Emulator, type Seed } from "../../emulator";
import { ecsClient, ecsErrorOf, REGION, thrownCode } from "./helpers";

const SEED: Seed = {
    keyPairs: [{ name: "ops-2026" }, { name: "ops-2027" }],
    instances: [
        { id: "i-a", keyPairName: "ops-2026" },
        { id: "i-b" },
        { id: "i-stopped", status: "Stopped" },
        { id: "i-locked", lockedForSecurity: true },
    ],
};
// Durations before timeScale: Stopping 3 s, Starting 5 s, Pending 2 s.
const STOPPING_MS = 3000;
const STARTING_MS = 5000;

let emulator: Emulator;
let client: Client;
const clock = new ManualClock();

beforeAll(async () => {
    emulator = await startEmulator({ clock });
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => emulator.model.reset(SEED));

const status = (id: string) => emulator.model.instance(id)?.status;

describe("RebootInstances", () => {
    test("Running → Stopping → Starting → Running; the new key and password take effect only at the end", async () => {
        emulator.model.attachKeyPair("i-a", "ops-2027");
        emulator.model.setPassword("i-a", "Secr3t-Passw0rd!");
        const response = await client.rebootInstances(
            new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a"], forceReboot: true }),
        );
        expect(response.body?.instanceResponses?.instanceResponse).toEqual([
            expect.objectContaining({
                instanceId: "i-a",
                code: "200",
                message: "success",
                previousStatus: "Running",
                currentStatus: "Stopping",
            }),
        ]);
        expect(status("i-a")).toBe("Stopping");
        clock.advance(STOPPING_MS);
        expect(status("i-a")).toBe("Starting");
        expect(emulator.model.instance("i-a")).toMatchObject({
            effectiveKeyPairName: "ops-2026",
            passwordEffective: false,
            rebootCount: 0,
        });
        clock.advance(STARTING_MS - 1);
        expect(status("i-a")).toBe("Starting");
        clock.advance(1);
        expect(emulator.model.instance("i-a")).toMatchObject({
            status: "Running",
            effectiveKeyPairName: "ops-2027",
            passwordEffective: true,
            rebootCount: 1,
            forcedRebootCount: 1,
        });
    });

    test("AllTogether: one instance not Running → 403 and none rebooted; unknown id → 404", async () => {
        const error = await ecsErrorOf(
            client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a", "i-stopped"] })),
        );
        expect(error).toMatchObject({ code: "IncorrectInstanceStatus", statusCode: 403 });
        expect(status("i-a")).toBe("Running");
        expect(
            await ecsErrorOf(client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a", "i-zzz"] }))),
        ).toMatchObject({
            code: "InvalidInstanceIds.NotFound",
            statusCode: 404,
        });
        expect(
            await ecsErrorOf(client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-locked"] }))),
        ).toMatchObject({
            code: "InstanceLockedForSecurity",
            statusCode: 403,
        });
        expect(status("i-a")).toBe("Running");
    });

    test("SuccessFirst: each instance on its own", async () => {
        const response = await client.rebootInstances(
            new ecs.RebootInstancesRequest({
                regionId: REGION,
                instanceId: ["i-a", "i-stopped", "i-zzz"],
                batchOptimization: "SuccessFirst",
            }),
        );
        expect(response.body?.instanceResponses?.instanceResponse?.map((r) => [r.instanceId, r.code])).toEqual([
            ["i-a", "200"],
            ["i-stopped", "IncorrectInstanceStatus"],
            ["i-zzz", "InvalidInstanceId.NotFound"],
        ]);
        expect(status("i-a")).toBe("Stopping");
    });

    test("DryRun → 400 DRYRUN.SUCCESS without rebooting; 101 ids → 403", async () => {
        expect(
            await ecsErrorOf(
                client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a"], dryRun: true })),
            ),
        ).toMatchObject({
            code: "DRYRUN.SUCCESS",
            statusCode: 400,
        });
        expect(status("i-a")).toBe("Running");
        const many = Array.from({ length: 101 }, (_, i) => `i-${i}`);
        expect(
            await ecsErrorOf(client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: many }))),
        ).toMatchObject({
            code: "InvalidParameter.TooManyInstanceIds",
            statusCode: 403,
        });
    });
});

describe("single-instance actions (no RegionId)", () => {
    test("RebootInstance: counts a reboot, not a forced one; not Running → 403; DryRunOperation", async () => {
        await client.rebootInstance(new ecs.RebootInstanceRequest({ instanceId: "i-b" }));
        expect(status("i-b")).toBe("Stopping");
        expect(await ecsErrorOf(client.rebootInstance(new ecs.RebootInstanceRequest({ instanceId: "i-b" })))).toMatchObject({
            code: "IncorrectInstanceStatus",
            statusCode: 403,
        });
        clock.advance(STOPPING_MS + STARTING_MS);
        expect(emulator.model.instance("i-b")).toMatchObject({ status: "Running", rebootCount: 1, forcedRebootCount: 0 });
        expect(await ecsErrorOf(client.rebootInstance(new ecs.RebootInstanceRequest({ instanceId: "i-b", dryRun: true })))).toMatchObject({
            code: "DryRunOperation",
            statusCode: 400,
        });
        expect(await ecsErrorOf(client.rebootInstance(new ecs.RebootInstanceRequest({ instanceId: "i-nope" })))).toMatchObject({
            code: "InvalidInstanceId.NotFound",
            statusCode: 404,
        });
    });

    test("StopInstance then StartInstance: Running → Stopping → Stopped → Starting → Running", async () => {
        emulator.model.attachKeyPair("i-b", "ops-2027");
        await client.stopInstance(new ecs.StopInstanceRequest({ instanceId: "i-b" }));
        expect(status("i-b")).toBe("Stopping");
        clock.advance(STOPPING_MS);
        expect(emulator.model.instance("i-b")).toMatchObject({ status: "Stopped", effectiveKeyPairName: undefined });
        await client.startInstance(new ecs.StartInstanceRequest({ instanceId: "i-b" }));
        expect(status("i-b")).toBe("Starting");
        clock.advance(STARTING_MS);
        expect(emulator.model.instance("i-b")).toMatchObject({ status: "Running", startCount: 1, effectiveKeyPairName: "ops-2027" });
        expect(await ecsErrorOf(client.startInstance(new ecs.StartInstanceRequest({ instanceId: "i-b" })))).toMatchObject({
            code: "IncorrectInstanceStatus",
            statusCode: 403,
        });
    });
});

describe("batch start and stop", () => {
    test("StopInstances and StartInstances report previous and current status", async () => {
        const stop = await client.stopInstances(new ecs.StopInstancesRequest({ regionId: REGION, instanceId: ["i-a", "i-b"] }));
        expect(stop.body?.instanceResponses?.instanceResponse?.map((r) => [r.previousStatus, r.currentStatus])).toEqual([
            ["Running", "Stopping"],
            ["Running", "Stopping"],
        ]);
        clock.advance(STOPPING_MS);
        const start = await client.startInstances(
            new ecs.StartInstancesRequest({ regionId: REGION, instanceId: ["i-a", "i-b", "i-stopped"] }),
        );
        expect(start.body?.instanceResponses?.instanceResponse?.map((r) => r.currentStatus)).toEqual(["Starting", "Starting", "Starting"]);
        expect(
            await ecsErrorOf(client.startInstances(new ecs.StartInstancesRequest({ regionId: REGION, instanceId: ["i-a"] }))),
        ).toMatchObject({
            code: "IncorrectInstanceStatus",
        });
        clock.advance(STARTING_MS);
        expect(emulator.model.instances(REGION).map((i) => [i.id, i.status, i.startCount])).toEqual([
            ["i-a", "Running", 1],
            ["i-b", "Running", 1],
            ["i-stopped", "Running", 1],
            ["i-locked", "Running", 0],
        ]);
    });
});

describe("model transitions and out-of-band changes", () => {
    test("a seeded Pending instance becomes Running; setStatus sticks forever", () => {
        emulator.model.addInstance({ id: "i-new", status: "Pending" });
        expect(status("i-new")).toBe("Pending");
        clock.advance(2000);
        expect(status("i-new")).toBe("Running");
        emulator.model.setStatus("i-new", "Starting");
        clock.advance(10 * 60 * 1000);
        expect(status("i-new")).toBe("Starting");
    });

    test("timeScale shortens every phase", async () => {
        const fast = await startEmulator({ clock, timeScale: 0.01, seed: SEED });
        try {
            fast.model.rebootInstance("i-a");
            clock.advance(30);
            expect(fast.model.instance("i-a")?.status).toBe("Starting");
            clock.advance(50);
            expect(fast.model.instance("i-a")?.status).toBe("Running");
        } finally {
            await fast.close();
        }
    });

    test("a bound key pair cannot be deleted; once unbound it can, and the guest keeps it until the next boot", () => {
        expect(thrownCode(() => emulator.model.deleteKeyPair("ops-2026"))).toBe("InvalidParameter.KeypairAlreadyAttachedInstance");
        emulator.model.detachKeyPair("i-a");
        expect(emulator.model.deleteKeyPair("ops-2026")).toBe(true);
        expect(emulator.model.instance("i-a")).toMatchObject({ keyPairName: undefined, effectiveKeyPairName: "ops-2026" });
        expect(emulator.model.keyPairs().map((k) => k.name)).toEqual(["ops-2027"]);
    });

    test("out-of-band attach/detach follow the API rules", () => {
        emulator.model.attachKeyPair("i-b", "ops-2027");
        expect(emulator.model.instance("i-b")?.keyPairName).toBe("ops-2027");
        emulator.model.detachKeyPair("i-b");
        expect(emulator.model.instance("i-b")?.keyPairName).toBeUndefined();
        expect(thrownCode(() => emulator.model.attachKeyPair("i-b", "missing"))).toBe("InvalidKeyPairName.NotFound");
    });
});
