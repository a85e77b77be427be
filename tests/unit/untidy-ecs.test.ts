/**
 * The provider's answers to an untidy ECS (issue 11), each unit on controlled time: the readiness
 * window, non-JSON gateway pages, coalesced calls isolating one resource's bad instance, confirming
 * a change through a lagging DescribeInstances, and the owed-restart notes kept in ECS tags.
 */
import type { Clock, Random } from "../../provider/clock";
import { Coalescer } from "../../provider/ecs/coalesce";
import type { BatchResult, EcsGateway } from "../../provider/ecs/gateway";
import type { InstanceFacts } from "../../provider/ecs/instance";
import { READINESS_MAX_DELAY_MS, RoundResult, untilReady } from "../../provider/ecs/readiness";
import { NOT_READY_WINDOW_CODES, classifyError, isUnreadableAnswer } from "../../provider/ecs/retry";
import type { RestartJournal } from "../../provider/journal";
import { EcsTagRestartJournal, RESTART_OWED_TAG, readRestartOwedTag, restartOwedTagValue } from "../../provider/tag-journal";
import { validateInputs } from "../../provider/validate";
import { VISIBILITY_READS, confirmChange, rereadDrifted } from "../../provider/visibility";

/** Virtual time: sleeping moves the clock, nothing waits. */
function virtualClock(): Clock & { sleeps: number[] } {
    let now = 0;
    const sleeps: number[] = [];
    return {
        now: () => now,
        sleep: (ms) => {
            sleeps.push(ms);
            now += ms;
            return Promise.resolve();
        },
        sleeps,
    };
}
const maxJitter: Random = { fraction: () => 0.999, hex: () => "00" };

const facts = (id: string, fields: Partial<InstanceFacts> = {}): InstanceFacts => ({
    instanceId: id,
    status: "Running",
    osType: "linux",
    ioOptimized: true,
    lockedForSecurity: false,
    ...fields,
});

describe("gateway pages that are not JSON", () => {
    test("the SDK's bare SyntaxError on an HTML 502/504 page is transient", () => {
        // What @alicloud/ecs20140526 throws for `<html>…502 Bad Gateway…</html>` (measured; see retry.ts).
        const fromHtml = new SyntaxError(`Unexpected token '<', "<html><bod"... is not valid JSON`);
        const fromEmpty = new SyntaxError("Unexpected end of JSON input");
        expect([isUnreadableAnswer(fromHtml), classifyError(fromHtml)]).toEqual([true, "transient"]);
        expect(classifyError(fromEmpty)).toBe("transient");
        expect(classifyError(new TypeError("x is not a function"))).toBe("fatal");
    });

    test("IncorrectInstanceStatus.Initializing is retried; plain IncorrectInstanceStatus is not", () => {
        expect(classifyError({ code: "IncorrectInstanceStatus.Initializing", statusCode: 403 })).toBe("transient");
        expect(classifyError({ code: "IncorrectInstanceStatus", statusCode: 403 })).toBe("fatal");
    });
});

describe("untilReady (the readiness window)", () => {
    /** Each instance answers `code` until its own time, then succeeds; `permanent` always fails. */
    function fleet(readyAtMs: Record<string, number>, clock: Clock, code = "IncorrectInstanceStatus.Initializing") {
        const sent: string[][] = [];
        const round = (ids: readonly string[]): Promise<RoundResult> => {
            sent.push([...ids]);
            const result: RoundResult = { succeeded: [], failed: [] };
            for (const id of ids) {
                if (id === "i-permanent") result.failed.push({ instanceId: id, code: "InvalidKeyPair.NotFound", message: "gone" });
                else if (clock.now() >= readyAtMs[id]) result.succeeded.push(id);
                else result.failed.push({ instanceId: id, code, message: "not ready" });
            }
            return Promise.resolve(result);
        };
        return { round, sent };
    }

    test.each(NOT_READY_WINDOW_CODES.map((code) => [code]))("waits out %s for the instances that answer it, only", async (code) => {
        const clock = virtualClock();
        const { round, sent } = fleet({ "i-ready": 0, "i-fresh": 60_000 }, clock, code);
        const result = await untilReady(["i-ready", "i-fresh", "i-permanent"], round, { windowMs: 300_000, clock, random: maxJitter });
        expect(result.succeeded.sort()).toEqual(["i-fresh", "i-ready"]);
        expect(result.failed.map((f) => [f.instanceId, f.code])).toEqual([["i-permanent", "InvalidKeyPair.NotFound"]]);
        // Later rounds carry only the instance that was not ready.
        expect(
            sent
                .slice(1)
                .flat()
                .every((id) => id === "i-fresh"),
        ).toBe(true);
        expect(clock.sleeps.every((ms) => ms <= READINESS_MAX_DELAY_MS)).toBe(true);
    });

    test("outside the window the last answer stands, and says how long it was waited for", async () => {
        const clock = virtualClock();
        const { round } = fleet({ "i-slow": 600_000 }, clock);
        const result = await untilReady(["i-slow"], round, { windowMs: 300_000, clock, random: maxJitter });
        expect(result.succeeded).toEqual([]);
        expect(result.failed).toEqual([
            expect.objectContaining({
                instanceId: "i-slow",
                code: "IncorrectInstanceStatus.Initializing",
                message: expect.stringContaining("still not ready after 300 s (waitForReadySeconds)") as string,
            }),
        ]);
        expect(clock.now()).toBe(300_000);
    });

    test("a window of 0 sends once", async () => {
        const clock = virtualClock();
        const { round, sent } = fleet({ "i-fresh": 1 }, clock);
        const result = await untilReady(["i-fresh"], round, { windowMs: 0, clock, random: maxJitter });
        expect([sent.length, result.failed.map((f) => f.code)]).toEqual([1, ["IncorrectInstanceStatus.Initializing"]]);
    });
});

describe("Coalescer: one resource's bad instance never fails another resource", () => {
    const windowsInstanceError = (id: string) =>
        Object.assign(new Error(`The specified instance is a Windows instance. (${id})`), { code: "DependencyViolation.WindowsInstance" });

    function coalescer(failFor: (items: string[]) => Error | undefined) {
        const batches: string[][] = [];
        const c = new Coalescer<string, string>(
            {
                maxBatch: 50,
                windowMs: 1,
                concurrency: 2,
                ready: () => Promise.resolve(),
                clock: { sleep: () => Promise.resolve() },
                isolate: (error) => (error as { code?: string }).code === "DependencyViolation.WindowsInstance",
                culprits: (error, items) => items.filter((id) => (error as Error).message.includes(`(${id})`)),
            },
            (_key, items) => {
                batches.push(items);
                const error = failFor(items);
                if (error) return Promise.reject(error);
                return Promise.resolve(new Map(items.map((i) => [i, "ok"])));
            },
        );
        return { c, batches };
    }

    test("an error naming an instance fails its resource; the others are sent again without it", async () => {
        const { c, batches } = coalescer((items) => (items.includes("i-win") ? windowsInstanceError("i-win") : undefined));
        const [a, b, d] = await Promise.all([
            c.request("k", ["i-a1", "i-a2"]),
            c.request("k", ["i-b1", "i-win"]),
            c.request("k", ["i-d1"]),
        ]);
        expect([...a.values()].map((s) => s.ok)).toEqual([true, true]);
        expect([...d.values()].map((s) => s.ok)).toEqual([true]);
        expect([b.get("i-b1")?.ok, b.get("i-win")?.ok]).toEqual([false, false]);
        expect(batches).toEqual([
            ["i-a1", "i-a2", "i-b1", "i-win", "i-d1"],
            ["i-a1", "i-a2", "i-d1"],
        ]);
    });

    test("an error that names no instance: each resource's instances are sent on their own", async () => {
        const unnamed = Object.assign(new Error("One of the instances is a Windows instance."), {
            code: "DependencyViolation.WindowsInstance",
        });
        const { c, batches } = coalescer((items) => (items.includes("i-win") ? unnamed : undefined));
        const [a, b] = await Promise.all([c.request("k", ["i-a1"]), c.request("k", ["i-win", "i-b2"])]);
        expect(a.get("i-a1")?.ok).toBe(true);
        expect([b.get("i-win")?.ok, b.get("i-b2")?.ok]).toEqual([false, false]);
        expect(batches.slice(1).sort()).toEqual([["i-a1"], ["i-win", "i-b2"]]);
    });

    test("an error of the request as a whole still fails every item merged into it", async () => {
        const throttled = Object.assign(new Error("denied"), { code: "Forbidden.RAM" });
        const { c, batches } = coalescer(() => throttled);
        const [a, b] = await Promise.all([c.request("k", ["i-a1"]), c.request("k", ["i-b1"])]);
        expect([a.get("i-a1")?.ok, b.get("i-b1")?.ok, batches.length]).toEqual([false, false, 1]);
    });
});

/** A gateway that shows the old binding for `lagReads` reads after each change, and records calls. */
function laggingGateway(initial: Record<string, string | undefined>, lagReads: number) {
    const actual = { ...initial };
    const shown = { ...initial };
    let readsSinceChange = 0;
    const calls: string[] = [];
    const change = (keyPairName: string | undefined) => (_region: string, _key: string, ids: readonly string[]) => {
        calls.push(`${keyPairName ? "AttachKeyPair" : "DetachKeyPair"} ${ids.join(",")}`);
        for (const id of ids) actual[id] = keyPairName;
        readsSinceChange = 0;
        return Promise.resolve<BatchResult>({ succeeded: [...ids], failed: [] });
    };
    const gateway = {
        describeInstances: (_region: string, ids: readonly string[]) => {
            calls.push(`DescribeInstances ${ids.join(",")}`);
            if (++readsSinceChange > lagReads) Object.assign(shown, actual);
            return Promise.resolve(new Map(ids.map((id) => [id, facts(id, { keyPairName: shown[id] })])));
        },
        attachKeyPair: (region: string, key: string, ids: readonly string[]) => change(key)(region, key, ids),
        detachKeyPair: change(undefined),
    } as unknown as EcsGateway;
    return { gateway, calls, actual };
}

describe("visibility lag", () => {
    test("a change ECS shows late is confirmed by a re-read, without resending", async () => {
        const { gateway, calls } = laggingGateway({ "i-1": undefined }, 1);
        await gateway.attachKeyPair("r", "ops", ["i-1"]);
        const clock = virtualClock();
        const resend = (ids: readonly string[]) => gateway.attachKeyPair("r", "ops", ids);
        const unconfirmed = await confirmChange(gateway, "r", ["i-1"], (f) => f?.keyPairName === "ops", resend, clock);
        expect(unconfirmed).toEqual([]);
        expect(calls).toEqual(["AttachKeyPair i-1", "DescribeInstances i-1", "DescribeInstances i-1"]);
    });

    test("a detach that still shows the key after a re-read is sent again (as the Terraform provider does)", async () => {
        const { gateway, calls } = laggingGateway({ "i-1": "ops" }, 0);
        // ECS said Success but the detach did not take: the first re-reads still show the key.
        const resend = jest.fn((ids: readonly string[]) => gateway.detachKeyPair("r", "ops", ids));
        const unconfirmed = await confirmChange(gateway, "r", ["i-1"], (f) => f?.keyPairName !== "ops", resend, virtualClock());
        expect(unconfirmed).toEqual([]);
        expect(resend).toHaveBeenCalledTimes(1);
        expect(calls).toEqual(["DescribeInstances i-1", "DescribeInstances i-1", "DetachKeyPair i-1", "DescribeInstances i-1"]);
    });

    test("the re-reads are bounded: a change never shown is returned, after VISIBILITY_READS reads", async () => {
        const { gateway, calls } = laggingGateway({ "i-1": undefined }, Infinity);
        const clock = virtualClock();
        const unconfirmed = await confirmChange(
            gateway,
            "r",
            ["i-1"],
            (f) => f?.keyPairName === "ops",
            () => Promise.resolve({ succeeded: [], failed: [] }),
            clock,
        );
        expect(unconfirmed).toEqual(["i-1"]);
        expect(calls.filter((c) => c.startsWith("Describe"))).toHaveLength(VISIBILITY_READS);
    });

    test("a refresh reads apparent drift again before dropping it; real drift stays drift", async () => {
        const { gateway } = laggingGateway({ "i-lag": "ops", "i-gone": undefined }, 2);
        const first = new Map([
            ["i-lag", facts("i-lag", { keyPairName: undefined })],
            ["i-gone", facts("i-gone", { keyPairName: undefined })],
        ]);
        const settled = await rereadDrifted(gateway, "r", "ops", ["i-lag", "i-gone"], first, virtualClock());
        expect([settled.get("i-lag")?.keyPairName, settled.get("i-gone")?.keyPairName]).toEqual(["ops", undefined]);
    });
});

describe("owed restarts noted in ECS tags", () => {
    test.each<[string, Partial<InstanceFacts>, "owed" | "stale" | undefined]>([
        ["the key it still holds, StartTime unchanged: owed", { keyPairName: "ops", startTime: "2026-12-01T14:05Z" }, "owed"],
        ["StartTime moved: it restarted since, only untag", { keyPairName: "ops", startTime: "2026-12-01T14:09Z" }, "stale"],
        ["it holds no key any more: only untag", { keyPairName: undefined, startTime: "2026-12-01T14:05Z" }, "stale"],
        ["it holds another key (rebound since): only untag", { keyPairName: "other", startTime: "2026-12-01T14:05Z" }, "stale"],
    ])("a note for ops@14:05 — %s", (_name, fields, expected) => {
        const tags = { [RESTART_OWED_TAG]: restartOwedTagValue("ops", "2026-12-01T14:05Z") };
        expect(readRestartOwedTag("ops", facts("i-1", { ...fields, tags }))).toBe(expected);
    });

    test("a note for another key pair that the instance holds is left to that key pair's run", () => {
        const tags = { [RESTART_OWED_TAG]: restartOwedTagValue("other", "2026-12-01T14:05Z") };
        expect(readRestartOwedTag("ops", facts("i-1", { keyPairName: "other", startTime: "2026-12-01T14:05Z", tags }))).toBeUndefined();
    });

    test("the value names the key pair and the StartTime, and stays within ECS's 128 characters", () => {
        expect(restartOwedTagValue("ops-2026", "2026-12-01T14:05Z")).toBe("ops-2026@2026-12-01T14:05Z");
        const long = `k${"x".repeat(127)}`;
        const value = restartOwedTagValue(long, "2026-12-01T14:05Z");
        expect(value.length).toBeLessThanOrEqual(128);
        expect(
            readRestartOwedTag(
                long,
                facts("i-1", { keyPairName: long, startTime: "2026-12-01T14:05Z", tags: { [RESTART_OWED_TAG]: value } }),
            ),
        ).toBe("owed");
    });

    function memoryJournal(): RestartJournal & { notes: Set<string> } {
        const notes = new Set<string>();
        return {
            notes,
            owed: () => Promise.resolve(new Set(notes)),
            note: (_r, _k, ids) => Promise.resolve(void ids.forEach((id) => notes.add(id))),
            settle: (_r, _k, ids) => Promise.resolve(void ids.forEach((id) => notes.delete(id))),
        };
    }

    function taggingGateway(refuse?: string) {
        const calls: string[] = [];
        const gateway = {
            tagInstances: (_region: string, ids: readonly string[], tags: Record<string, string>) => {
                calls.push(`TagResources ${ids.join(",")} ${JSON.stringify(tags)}`);
                return refuse ? Promise.reject(Object.assign(new Error("denied"), { code: refuse })) : Promise.resolve();
            },
            untagInstances: (_region: string, ids: readonly string[], keys: readonly string[]) => {
                calls.push(`UntagResources ${ids.join(",")} ${keys.join(",")}`);
                return Promise.resolve();
            },
        } as unknown as EcsGateway;
        return { gateway, calls };
    }

    test("note tags each instance with its own StartTime (one call per value); settle untags; stale notes are untagged when read", async () => {
        const { gateway, calls } = taggingGateway();
        const logs: string[] = [];
        const journal = new EcsTagRestartJournal(gateway, memoryJournal(), (l) => logs.push(l));
        const seen = new Map([
            ["i-1", facts("i-1", { keyPairName: undefined, startTime: "2026-12-01T14:05Z" })],
            ["i-2", facts("i-2", { keyPairName: undefined, startTime: "2026-12-01T14:05Z" })],
            ["i-3", facts("i-3", { keyPairName: undefined, startTime: "2026-11-30T08:00Z" })],
        ]);
        await journal.note("r", "ops", ["i-1", "i-2", "i-3"], seen);
        await journal.settle("r", "ops", ["i-1", "i-2", "i-3"]);
        expect(calls).toEqual([
            `TagResources i-1,i-2 {"${RESTART_OWED_TAG}":"ops@2026-12-01T14:05Z"}`,
            `TagResources i-3 {"${RESTART_OWED_TAG}":"ops@2026-11-30T08:00Z"}`,
            `UntagResources i-1,i-2,i-3 ${RESTART_OWED_TAG}`,
        ]);
        expect(logs).toEqual([]);

        // Another machine: i-1 still owes its restart, i-2 restarted since (its StartTime moved).
        const other = taggingGateway();
        const next = new EcsTagRestartJournal(other.gateway, memoryJournal(), () => undefined);
        const tags = { [RESTART_OWED_TAG]: restartOwedTagValue("ops", "2026-12-01T14:05Z") };
        const owed = await next.owed(
            "r",
            "ops",
            new Map([
                ["i-1", facts("i-1", { keyPairName: "ops", startTime: "2026-12-01T14:05Z", tags })],
                ["i-2", facts("i-2", { keyPairName: "ops", startTime: "2026-12-01T14:07Z", tags })],
            ]),
        );
        expect([...owed]).toEqual(["i-1"]);
        expect(other.calls).toEqual([`UntagResources i-2 ${RESTART_OWED_TAG}`]);
        await next.settle("r", "ops", ["i-1"]);
        expect(other.calls).toEqual([`UntagResources i-2 ${RESTART_OWED_TAG}`, `UntagResources i-1 ${RESTART_OWED_TAG}`]);
    });

    test.each([["Forbidden.RAM"], ["NoPermission"]])("tagging refused (%s): the local journal keeps the note, said once", async (code) => {
        const { gateway } = taggingGateway(code);
        const logs: string[] = [];
        const local = memoryJournal();
        const journal = new EcsTagRestartJournal(gateway, local, (l) => logs.push(l));
        const seen = new Map([["i-1", facts("i-1", { startTime: "2026-12-01T14:05Z" })]]);
        await journal.note("r", "ops", ["i-1"], seen);
        await journal.note("r", "ops2", ["i-1"], seen);
        expect([...local.notes]).toEqual(["i-1"]);
        expect(logs).toEqual([expect.stringContaining(`ECS refused TagResources (${code})`)]);
        expect(logs[0]).toContain("ecs:TagResources and ecs:UntagResources");
        expect([...(await journal.owed("r", "ops", seen))]).toEqual(["i-1"]);
    });
});

describe("waitForReadySeconds (check)", () => {
    test.each<[unknown, boolean]>([
        [300, true],
        [0, true],
        [2.5, true],
        ["04da6b54-80e4-46f7-96ec-b56ff0331ba9", true],
        [-1, false],
        ["300", false],
        [Infinity, false],
        [null, false],
    ])("%p accepted: %p", (value, accepted) => {
        const failures = validateInputs({ keyPairName: "ops", instanceIds: ["i-1"], waitForReadySeconds: value });
        if (accepted) expect(failures).toEqual([]);
        else
            expect(failures).toEqual([
                {
                    property: "waitForReadySeconds",
                    reason: expect.stringMatching(/^waitForReadySeconds must be a number of seconds ≥ 0 .*got /) as string,
                },
            ]);
    });
});
