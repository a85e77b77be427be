/** Visibility lag (consistencyDelayMs) and gateway HTML answers, through the SDK over HTTP. */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { ManualClock, startEmulator, type Emulator } from "../../emulator";
import { ecsClient, REGION } from "./helpers";

const DELAY_MS = 4000;
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
beforeEach(() => {
    emulator.model.reset({
        keyPairs: [{ name: "old" }, { name: "new" }],
        instances: [{ id: "i-a", keyPairName: "old" }],
        settings: { consistencyDelayMs: DELAY_MS },
    });
    emulator.faults.clear();
});

async function described(): Promise<{ keyPairName?: string; status?: string }> {
    const response = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-a"]' }));
    const item = response.body?.instances?.instance?.[0];
    return { keyPairName: item?.keyPairName, status: item?.status };
}

describe("consistencyDelayMs", () => {
    test("DescribeInstances shows a key pair bind and unbind only after the delay", async () => {
        await client.attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "new", instanceIds: '["i-a"]' }));
        expect(emulator.model.instance("i-a")?.keyPairName).toBe("new");
        expect(await described()).toMatchObject({ keyPairName: "old" });
        clock.advance(DELAY_MS - 1);
        expect(await described()).toMatchObject({ keyPairName: "old" });
        clock.advance(1);
        expect(await described()).toMatchObject({ keyPairName: "new" });

        await client.detachKeyPair(new ecs.DetachKeyPairRequest({ regionId: REGION, keyPairName: "new", instanceIds: '["i-a"]' }));
        expect(await described()).toMatchObject({ keyPairName: "new" });
        clock.advance(DELAY_MS);
        expect((await described()).keyPairName).toBeUndefined();
    });

    test("status changes of a reboot show late too", async () => {
        await client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a"] }));
        expect(emulator.model.instance("i-a")?.status).toBe("Stopping");
        expect((await described()).status).toBe("Running");
        clock.advance(DELAY_MS);
        expect((await described()).status).toBe("Stopping");
        clock.advance(STOPPING_MS);
        expect((await described()).status).toBe("Starting");
        clock.advance(STARTING_MS - 1);
        expect(emulator.model.instance("i-a")?.status).toBe("Running");
        expect((await described()).status).toBe("Starting");
        clock.advance(1);
        expect((await described()).status).toBe("Running");
    });

    test("with no delay, DescribeInstances is current", async () => {
        emulator.model.updateSettings({ consistencyDelayMs: 0 });
        await client.attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "new", instanceIds: '["i-a"]' }));
        expect(await described()).toMatchObject({ keyPairName: "new" });
    });
});

describe("gateway answers", () => {
    /** An unsigned request to an emulator that does not check signatures, to see the raw answer. */
    async function rawPost(): Promise<{ status: number; contentType?: string; body: string }> {
        const open = await startEmulator({ verifySignatures: false });
        try {
            open.faults.add({ action: "DescribeInstances", gatewayStatus: 504, gatewayAfterProcessing: true });
            const response = await fetch(`${open.url}/?Action=DescribeInstances&Version=2014-05-26&RegionId=${REGION}`, { method: "POST" });
            return { status: response.status, contentType: response.headers.get("content-type") ?? undefined, body: await response.text() };
        } finally {
            await open.close();
        }
    }

    test.each([502, 504] as const)("a %i with an HTML body: the SDK cannot parse it, and nothing was done", async (gatewayStatus) => {
        emulator.faults.add({ action: "AttachKeyPair", gatewayStatus });
        const error = await client
            .attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "new", instanceIds: '["i-a"]' }))
            .then(
                () => undefined,
                (e: unknown) => e,
            );
        // openapi-core reads the body as JSON and throws a bare SyntaxError (ecs-api.md §12.4).
        expect(error).toBeInstanceOf(SyntaxError);
        expect(emulator.model.instance("i-a")?.keyPairName).toBe("old");
        expect(emulator.calls.at(-1)).toMatchObject({ action: "AttachKeyPair", status: gatewayStatus });
    });

    test("gatewayAfterProcessing: the change is made, the answer is still the gateway's page", async () => {
        const reply = await rawPost();
        expect(reply.status).toBe(504);
        expect(reply.contentType).toBe("text/html");
        expect(reply.body).toContain("504 Gateway Time-out");

        emulator.faults.add({ action: "AttachKeyPair", gatewayStatus: 504, gatewayAfterProcessing: true });
        await expect(
            client.attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "new", instanceIds: '["i-a"]' })),
        ).rejects.toBeInstanceOf(SyntaxError);
        expect(emulator.model.instance("i-a")?.keyPairName).toBe("new");
    });
});
