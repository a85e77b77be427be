/**
 * The provider against an ECS that is slower and less tidy than a fresh emulator (issue 11): fresh
 * instances inside their initialization window, per-instance "not now" answers, a DescribeInstances
 * that lags, gateway pages that are not JSON, reboots whose answer was lost, a coalesced call one
 * resource's instance breaks, and the owed-restart notes kept in ECS tags. The real SDK over HTTP to
 * the emulator; the emulator's time is scaled (TIME_SCALE), so its minutes pass in milliseconds.
 */
import * as ecs from "@alicloud/ecs20140526";
import * as fs from "fs";

import type { Seed } from "../../emulator";
import { ecsMinuteTime } from "../../emulator/params";
import { PartialBindingError } from "../../provider/lifecycle";
import { classifyError } from "../../provider/ecs/retry";
import { RESTART_OWED_TAG, restartOwedTagValue } from "../../provider/tag-journal";
import { ecsClient } from "../emulator/helpers";
import { Fixture, REGION, inputs, startFixture } from "./fixture";

const KEY = "ops";
/** 60 s of initialization: 600 ms at TIME_SCALE. */
const INITIALIZATION_MS = 60_000;

let f: Fixture | undefined;
afterEach(async () => {
    await f?.close();
    f = undefined;
});

const fleet = (ids: string[], extra: Partial<Seed> = {}): Seed => ({
    keyPairs: [{ name: KEY }],
    instances: ids.map((id) => ({ id })),
    ...extra,
});
const callsOf = (fixture: Fixture, action: string) => fixture.emulator.calls.filter((c) => c.action === action);
const instance = (fixture: Fixture, id: string) => fixture.emulator.model.instance(id)!;

describe("fresh instances (created in the same up)", () => {
    test.each<["Initializing" | "ServiceUnavailable", string]>([
        ["Initializing", "per instance inside Results.Result[]"],
        ["ServiceUnavailable", "for the whole request"],
    ])("answers of %s (%s) are waited out, and only the fresh instances are sent again", async (answer) => {
        f = await startFixture({
            keyPairs: [{ name: KEY }],
            instances: [{ id: "i-old" }, { id: "i-fresh1", fresh: true }, { id: "i-fresh2", fresh: true }],
            settings: { initializationMs: INITIALIZATION_MS, initializingAnswer: answer },
        });
        const { outs } = await f.hooks.create(inputs(KEY, ["i-old", "i-fresh1", "i-fresh2"]));
        expect(outs.instanceIds).toEqual(["i-old", "i-fresh1", "i-fresh2"]);
        expect([...outs.restartedInstanceIds].sort()).toEqual(["i-fresh1", "i-fresh2", "i-old"]);
        for (const id of ["i-old", "i-fresh1", "i-fresh2"])
            expect(instance(f, id)).toMatchObject({ effectiveKeyPairName: KEY, rebootCount: 1 });
        const attaches = callsOf(f, "AttachKeyPair").map((c) => c.instanceIds);
        expect(attaches.length).toBeGreaterThan(1);
        if (answer === "Initializing") {
            // The instance that was ready is never sent again.
            expect(attaches.slice(1).flat()).not.toContain("i-old");
            expect(attaches[0]).toEqual(["i-old", "i-fresh1", "i-fresh2"]);
        }
    });

    test("outside waitForReadySeconds it fails as before, with the ready instances recorded as bound", async () => {
        f = await startFixture({
            keyPairs: [{ name: KEY }],
            instances: [{ id: "i-old" }, { id: "i-fresh", fresh: true }],
            settings: { initializationMs: 100 * INITIALIZATION_MS },
        });
        const error = await f.hooks.create(inputs(KEY, ["i-old", "i-fresh"], { waitForReadySeconds: 0.05 })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PartialBindingError);
        const partial = error as PartialBindingError;
        expect(partial.properties.instanceIds).toEqual(["i-old"]);
        expect(partial.message).toContain("i-fresh");
        expect(partial.message).toContain("IncorrectInstanceStatus.Initializing");
        expect(partial.message).toContain("waitForReadySeconds");
    });

    test("a per-instance InvalidOperation.Conflict is retried for that instance only", async () => {
        f = await startFixture(fleet(["i-a", "i-b", "i-c"]));
        f.emulator.faults.add({ action: "AttachKeyPair", instanceFailures: [{ instanceId: "i-b", code: "InvalidOperation.Conflict" }] });
        const { outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b", "i-c"]));
        expect(outs.instanceIds).toEqual(["i-a", "i-b", "i-c"]);
        expect(callsOf(f, "AttachKeyPair").map((c) => c.instanceIds)).toEqual([["i-a", "i-b", "i-c"], ["i-b"]]);
    });
});

describe("gateway pages that are not JSON", () => {
    test("what the SDK throws on the emulator's HTML 502: a bare SyntaxError, which the provider retries", async () => {
        f = await startFixture(fleet(["i-a"]));
        f.emulator.faults.add({ action: "DescribeKeyPairs", gatewayStatus: 502 });
        const client = ecsClient(f.emulator);
        const error = await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SyntaxError);
        expect((error as { code?: unknown; statusCode?: unknown }).code).toBeUndefined();
        expect((error as { statusCode?: unknown }).statusCode).toBeUndefined();
        expect(classifyError(error)).toBe("transient");
    });

    test.each<[string, 502 | 504]>([
        ["AttachKeyPair", 502],
        ["DescribeInstances", 504],
        ["DescribeKeyPairs", 502],
    ])("%s answered by a gateway's %i page: retried, the create succeeds", async (action, gatewayStatus) => {
        f = await startFixture(fleet(["i-a", "i-b"]));
        f.emulator.faults.add({ action, gatewayStatus, times: 2 });
        const { outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"]));
        expect(outs.instanceIds).toEqual(["i-a", "i-b"]);
        expect(outs.restartedInstanceIds).toEqual(["i-a", "i-b"]);
    });
});

describe("reboots are never resent blindly", () => {
    const rebootsAndLooks = (fixture: Fixture) =>
        fixture.emulator.calls.filter((c) => c.action === "RebootInstances" || c.action === "DescribeInstances").map((c) => c.action);

    test("a 504 page after ECS rebooted: the instances are described, and none is rebooted again", async () => {
        f = await startFixture(fleet(["i-a", "i-b"]));
        f.emulator.faults.add({ action: "RebootInstances", gatewayStatus: 504, gatewayAfterProcessing: true });
        const { outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"]));
        expect(outs.restartedInstanceIds).toEqual(["i-a", "i-b"]);
        expect(callsOf(f, "RebootInstances")).toHaveLength(1);
        for (const id of ["i-a", "i-b"]) expect(instance(f, id)).toMatchObject({ rebootCount: 1, effectiveKeyPairName: KEY });
    });

    test("a refused RebootInstances (503): described first, then sent again to the instances still Running", async () => {
        f = await startFixture(fleet(["i-a", "i-b"]));
        f.emulator.faults.add({ action: "RebootInstances", code: "ServiceUnavailable" });
        await f.hooks.create(inputs(KEY, ["i-a", "i-b"]));
        const sequence = rebootsAndLooks(f);
        const first = sequence.indexOf("RebootInstances");
        expect(sequence.slice(first, first + 3)).toEqual(["RebootInstances", "DescribeInstances", "RebootInstances"]);
        for (const id of ["i-a", "i-b"]) expect(instance(f, id)).toMatchObject({ rebootCount: 1, effectiveKeyPairName: KEY });
    });
});

describe("coalescing isolates resources", () => {
    test("a request-level error caused by one instance: each resource is sent on its own, and both succeed", async () => {
        f = await startFixture(fleet(["i-a1", "i-a2", "i-b1", "i-b2"]));
        f.emulator.faults.add({ action: "AttachKeyPair", code: "InvalidInstanceIds.ValueNotSupported", status: 400 });
        const [a, b] = await Promise.all([f.hooks.create(inputs(KEY, ["i-a1", "i-a2"])), f.hooks.create(inputs(KEY, ["i-b1", "i-b2"]))]);
        expect([a.outs.instanceIds, b.outs.instanceIds]).toEqual([
            ["i-a1", "i-a2"],
            ["i-b1", "i-b2"],
        ]);
        const attaches = callsOf(f, "AttachKeyPair").map((c) => [...c.instanceIds].sort());
        expect(attaches).toEqual([["i-a1", "i-a2", "i-b1", "i-b2"], expect.any(Array), expect.any(Array)]);
        expect(attaches.slice(1).sort()).toEqual([
            ["i-a1", "i-a2"],
            ["i-b1", "i-b2"],
        ]);
    });
});

describe("visibility lag (consistencyDelayMs)", () => {
    test("a create confirms its binding by re-reading; a read right after does not take lag for drift", async () => {
        // 2 s of lag (20 ms at TIME_SCALE): within the provider's re-read window (0.5 + 1 + 2 s, scaled alike).
        f = await startFixture({ ...fleet(["i-a", "i-b", "i-c"]), settings: { consistencyDelayMs: 2_000 } });
        const { id, outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"], { restart: { enabled: false } }));
        expect(outs.instanceIds).toEqual(["i-a", "i-b"]);
        const readsAfterAttach = f.emulator.calls.slice(f.emulator.calls.findIndex((c) => c.action === "AttachKeyPair"));
        expect(readsAfterAttach.filter((c) => c.action === "DescribeInstances").length).toBeGreaterThan(1);

        // Bound a moment ago (as by the up that just ended): ECS does not show it yet.
        f.emulator.model.attachKeyPair("i-c", KEY);
        const { props } = await f.hooks.read(id, { ...outs, instanceIds: ["i-a", "i-b", "i-c"] });
        expect(props.instanceIds).toEqual(["i-a", "i-b", "i-c"]);
    });

    test("a rolling restart does not take a lagging Running (from before the reboot) for an instance back", async () => {
        // 3 s of lag (30 ms here): longer than the first status poll after a reboot (20 ms here).
        f = await startFixture({ ...fleet(["i-a", "i-b"]), settings: { consistencyDelayMs: 3_000 } });
        const rolling = { restart: { pollIntervalSeconds: 0.02, timeoutSeconds: 10, batchSize: 1 } };
        const { outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"], rolling));
        expect(callsOf(f, "RebootInstances").map((c) => c.instanceIds)).toEqual([["i-a"], ["i-b"]]);
        expect(outs.restartedInstanceIds).toEqual(["i-a", "i-b"]);
        // Reported restarted only once Running again in fact (the lagging view shows what already happened).
        expect([instance(f, "i-a").status, instance(f, "i-b").status]).toEqual(["Running", "Running"]);
    });

    test("drift that stays drift through the re-reads is still dropped", async () => {
        f = await startFixture(fleet(["i-a", "i-b"]));
        const { id, outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"], { restart: { enabled: false } }));
        f.emulator.model.detachKeyPair("i-b");
        f.emulator.resetCalls();
        expect((await f.hooks.read(id, outs)).props.instanceIds).toEqual(["i-a"]);
        // Read once, then again at each of the bounded re-reads.
        expect(callsOf(f, "DescribeInstances").map((c) => c.instanceIds)).toEqual([["i-a", "i-b"], ["i-b"], ["i-b"], ["i-b"]]);
    });
});

describe("owed restarts noted in ECS tags", () => {
    const shownStartTime = (fixture: Fixture, id: string) => ecsMinuteTime(instance(fixture, id).startTime);

    test("tagged before AttachKeyPair, untagged once restarted: nothing is left on the instances", async () => {
        f = await startFixture(fleet(["i-a", "i-b"]));
        const expected = restartOwedTagValue(KEY, shownStartTime(f, "i-a"));
        await f.hooks.create(inputs(KEY, ["i-a", "i-b"]));
        const actions = f.emulator.calls.map((c) => c.action);
        expect(actions.indexOf("TagResources")).toBeLessThan(actions.indexOf("AttachKeyPair"));
        expect(actions.lastIndexOf("UntagResources")).toBeGreaterThan(actions.indexOf("RebootInstances"));
        const tagCall = callsOf(f, "TagResources")[0];
        expect(tagCall.params).toMatchObject({ "Tag.1.Key": RESTART_OWED_TAG, "Tag.1.Value": expected });
        for (const id of ["i-a", "i-b"]) expect(instance(f, id).tags).toEqual({});
    });

    test("another machine restarts an instance whose note still holds, and only untags one that restarted since", async () => {
        f = await startFixture({
            keyPairs: [{ name: KEY }],
            instances: [
                { id: "i-owed", keyPairName: KEY },
                { id: "i-since", keyPairName: KEY },
            ],
        });
        // What a lost runner left: notes written before its AttachKeyPair; i-since has started again after its note.
        f.emulator.model.tagInstance("i-owed", { [RESTART_OWED_TAG]: restartOwedTagValue(KEY, shownStartTime(f, "i-owed")) });
        f.emulator.model.tagInstance("i-since", { [RESTART_OWED_TAG]: restartOwedTagValue(KEY, "2026-01-01T00:00Z") });
        const { outs } = await f.hooks.create(inputs(KEY, ["i-owed", "i-since"]));
        expect(outs.restartedInstanceIds).toEqual(["i-owed"]);
        expect([instance(f, "i-owed").rebootCount, instance(f, "i-since").rebootCount]).toEqual([1, 0]);
        for (const id of ["i-owed", "i-since"]) expect(instance(f, id).tags).toEqual({});
        expect(callsOf(f, "AttachKeyPair")).toEqual([]);
    });

    test("a delete after a lost run removes the notes it left on the instances it unbinds", async () => {
        f = await startFixture(fleet(["i-a", "i-b"]));
        const { id, outs } = await f.hooks.create(inputs(KEY, ["i-a", "i-b"]));
        f.emulator.model.tagInstance("i-a", { [RESTART_OWED_TAG]: restartOwedTagValue(KEY, shownStartTime(f, "i-a")) });
        f.emulator.resetCalls();
        await f.hooks.delete(id, outs);
        for (const instanceId of ["i-a", "i-b"]) expect(instance(f, instanceId)).toMatchObject({ keyPairName: undefined, tags: {} });
        // Only the instance that carried a note is untagged.
        expect(callsOf(f, "UntagResources").map((c) => c.params)).toEqual([expect.objectContaining({ "ResourceId.1": "i-a" })]);
        expect(callsOf(f, "UntagResources")[0].params["ResourceId.2"]).toBeUndefined();
    });

    test("tagging refused (Forbidden.RAM): the local journal keeps the note, and the provider says so once", async () => {
        f = await startFixture(fleet(["i-a", "i-b", "i-c"]));
        f.emulator.faults.add({ action: "TagResources", code: "Forbidden.RAM", status: 403, times: Infinity });
        let journalDuringAttach: string[] = [];
        const journalDir = f.journalDir;
        const fixture = f;
        const attachSeen = new Promise<void>((resolve) => {
            const timer = setInterval(() => {
                if (fixture.emulator.calls.some((c) => c.action === "AttachKeyPair")) {
                    journalDuringAttach = fs.readdirSync(journalDir);
                    clearInterval(timer);
                    resolve();
                }
            }, 1);
        });
        await f.hooks.create(inputs(KEY, ["i-a"]));
        await attachSeen;
        await f.hooks.create(inputs(KEY, ["i-b", "i-c"]));
        expect(journalDuringAttach).toHaveLength(1);
        expect(f.logs.filter((l) => l.includes("ECS refused TagResources (Forbidden.RAM)"))).toHaveLength(1);
        expect(fs.readdirSync(journalDir)).toEqual([]);
        for (const id of ["i-a", "i-b", "i-c"]) expect(instance(f, id)).toMatchObject({ rebootCount: 1, tags: {} });
    });
});
