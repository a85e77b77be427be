/** Injected faults as the SDK experiences them. */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { startEmulator, type Emulator } from "../../emulator";
import { ecsClient, ecsErrorOf, REGION } from "./helpers";

let emulator: Emulator;
let client: Client;

beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 0 });
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
    emulator.model.reset({ keyPairs: [{ name: "ops-2026" }], instances: [{ id: "i-1" }, { id: "i-2" }] });
    emulator.faults.clear();
    emulator.faults.clearThrottle();
    emulator.resetCalls();
});

const describeStatus = () => client.describeInstanceStatus(new ecs.DescribeInstanceStatusRequest({ regionId: REGION }));
const attach = () =>
    client.attachKeyPair(new ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: "ops-2026", instanceIds: '["i-1","i-2"]' }));

test("an error fault returns the code and status for `times` calls, then the service answers again", async () => {
    emulator.faults.add({ action: "AttachKeyPair", code: "ServiceUnavailable", times: 2 });
    expect(await ecsErrorOf(attach())).toMatchObject({ code: "ServiceUnavailable", statusCode: 503 });
    expect(await ecsErrorOf(attach())).toMatchObject({ code: "ServiceUnavailable", statusCode: 503 });
    expect(emulator.model.instance("i-1")?.keyPairName).toBeUndefined();
    await attach();
    expect(emulator.model.instance("i-1")?.keyPairName).toBe("ops-2026");
    // Other actions were never affected.
    await describeStatus();
    expect(emulator.calls.map((c) => [c.action, c.status, c.code])).toEqual([
        ["AttachKeyPair", 503, "ServiceUnavailable"],
        ["AttachKeyPair", 503, "ServiceUnavailable"],
        ["AttachKeyPair", 200, undefined],
        ["DescribeInstanceStatus", 200, undefined],
    ]);
    expect(emulator.calls[0].instanceIds).toEqual(["i-1", "i-2"]);
});

test("afterCalls skips the first matching calls; a status alone gets its usual code", async () => {
    emulator.faults.add({ action: ["DescribeInstanceStatus"], status: 500, afterCalls: 1 });
    await describeStatus();
    expect(await ecsErrorOf(describeStatus())).toMatchObject({ code: "InternalError", statusCode: 500 });
    await describeStatus();
    expect(emulator.callCounts()).toEqual({ DescribeInstanceStatus: 3 });
});

test("Infinity keeps failing until removed", async () => {
    const id = emulator.faults.add({ code: "Throttling.Api", times: Infinity });
    for (let i = 0; i < 3; i++) expect((await ecsErrorOf(describeStatus())).code).toBe("Throttling.Api");
    expect(emulator.faults.remove(id)).toBe(true);
    await describeStatus();
});

test("dropConnection: no response, and nothing changed", async () => {
    emulator.faults.add({ action: "AttachKeyPair", dropConnection: true });
    await expect(attach()).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(emulator.model.instance("i-1")?.keyPairName).toBeUndefined();
    expect(emulator.calls[0]).toMatchObject({ action: "AttachKeyPair", status: 0 });
});

test("resetMidResponse: the change happened but the answer is cut", async () => {
    emulator.faults.add({ action: "AttachKeyPair", resetMidResponse: true });
    await expect(attach()).rejects.toThrow();
    expect(emulator.model.instance("i-1")?.keyPairName).toBe("ops-2026");
});

test("delayMs answers late", async () => {
    emulator.faults.add({ delayMs: 150 });
    const started = Date.now();
    await describeStatus();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
});

test("delayMs holds the request back before it is carried out; answerAfterMs carries it out at once and answers late", async () => {
    emulator.faults.add({ action: "AttachKeyPair", delayMs: 200 });
    const held = attach();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emulator.model.instance("i-1")?.keyPairName).toBeUndefined();
    await held;
    emulator.model.detachKeyPair("i-1");

    emulator.faults.add({ action: "AttachKeyPair", answerAfterMs: 200 });
    const started = Date.now();
    const late = attach();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emulator.model.instance("i-1")?.keyPairName).toBe("ops-2026");
    await late;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
});

test("instanceFailures fail chosen instances inside an HTTP 200 batch", async () => {
    emulator.faults.add({ action: "AttachKeyPair", instanceFailures: [{ instanceId: "i-2", code: "ServiceUnavailable" }] });
    const response = await attach();
    expect(response.body?.failCount).toBe("1");
    expect(response.body?.results?.result?.map((r) => [r.instanceId, r.code])).toEqual([
        ["i-1", "200"],
        ["i-2", "ServiceUnavailable"],
    ]);
    expect(emulator.model.instance("i-2")?.keyPairName).toBeUndefined();
});

test("throttle: calls above the per-action rate get 400 Throttling.User and are counted", async () => {
    emulator.faults.throttle({ action: "DescribeInstanceStatus", ratePerSecond: 2 });
    const outcomes = [];
    for (let i = 0; i < 5; i++)
        outcomes.push(
            await describeStatus().then(
                () => "ok",
                (e: { code: string; statusCode: number; name: string }) => `${e.statusCode} ${e.code}`,
            ),
        );
    expect(outcomes).toEqual(["ok", "ok", "400 Throttling.User", "400 Throttling.User", "400 Throttling.User"]);
    expect(emulator.faults.throttledCount()).toBe(3);
    // Quotas are per action: another API is not throttled.
    await attach();
    emulator.faults.clearThrottle();
    await describeStatus();
});

test("the SDK classifies an injected throttle as ThrottlingError", async () => {
    emulator.faults.add({ code: "Throttling.User" });
    await expect(describeStatus()).rejects.toMatchObject({ name: "ThrottlingError", statusCode: 400 });
});
