/**
 * The preview through the real SDK against the emulator: check (new resource) and diff (binding
 * change) look at ECS read-only, print the impact, refuse what `up` refuses with `up`'s message,
 * and hand their look-up to the create or update that follows — counted call by call.
 */
import { Clock } from "../../provider/clock";
import { LOOKUP_FRESH_MS } from "../../provider/preview";
import { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../../provider/types";
import { UNKNOWN_VALUE } from "../../provider/validate";
import { Fixture, inputs, linuxInstances, mutatingCalls, startFixture } from "./fixture";

/** What the engine hands to check, diff, create and update: the inputs (with `__provider`). */
const desired = (keyPairName: string, ids: string[], extra: Record<string, unknown> = {}) =>
    inputs(keyPairName, ids, extra) as unknown as KeyPairAttachmentInputs;
/** The olds of check for a resource that does not exist yet. */
const NEW = {} as KeyPairAttachmentInputs;
const UNKNOWN_LIST = UNKNOWN_VALUE as unknown as string[];

/** The case: three running (one holding another key), one stopped. */
const FOUR = ["i-web1", "i-web2", "i-web3", "i-batch1"];
const fleet = {
    keyPairs: [{ name: "ops" }, { name: "legacy" }],
    instances: [
        { id: "i-web1" },
        { id: "i-web2" },
        { id: "i-web3", keyPairName: "legacy" },
        { id: "i-batch1", status: "Stopped" as const },
        { id: "i-win1", osType: "windows" as const },
        { id: "i-gen1", ioOptimized: false },
        { id: "i-locked", lockedForSecurity: true },
        { id: "i-far", region: "cn-beijing" },
        { id: "i-extra" },
    ],
};

const count = (f: Fixture, action: string) => f.emulator.calls.filter((c) => c.action === action).length;
/** Calls of `action` made before the first call of `before` (all of them when `before` never came). */
function countBefore(f: Fixture, action: string, before: string): number {
    const end = f.emulator.calls.findIndex((c) => c.action === before);
    return (end < 0 ? f.emulator.calls : f.emulator.calls.slice(0, end)).filter((c) => c.action === action).length;
}

describe("preview of a new attachment (check)", () => {
    let f: Fixture;
    beforeEach(async () => (f = await startFixture(fleet)));
    afterEach(async () => f.close());

    test("prints what would happen, from one DescribeInstances and one DescribeKeyPairs, and changes nothing", async () => {
        const result = await f.hooks.check(NEW, desired("ops", FOUR, { restart: { batchSize: 2 } }));

        expect(result.failures).toEqual([]);
        expect(f.logs).toEqual([
            [
                'KeyPairAttachment (new): key pair "ops" in cn-hangzhou — 4 instance(s) would get the key: i-web1, i-web2, i-web3, i-batch1.',
                "    - restarted (Running; graceful reboot, in 2 waves of at most 2 (restart.batchSize)): i-web1, i-web2, i-web3",
                "    - not running: take the key at their next start (not started by this): i-batch1",
                '    - another key pair would be replaced: "legacy" on i-web3',
            ].join("\n"),
        ]);
        expect(f.emulator.callCounts()).toEqual({ DescribeInstances: 1, DescribeKeyPairs: 1 });
        expect(f.emulator.model.instance("i-web1")).toMatchObject({ keyPairName: undefined, rebootCount: 0 });
    });

    test("the create that follows uses the look-up: no second DescribeInstances or DescribeKeyPairs before binding", async () => {
        const news = desired("ops", FOUR);
        await f.hooks.check(NEW, news);
        const { outs } = await f.hooks.create(news);

        expect(outs.instanceIds).toEqual(FOUR);
        expect(countBefore(f, "DescribeInstances", "AttachKeyPair")).toBe(1);
        expect(count(f, "DescribeKeyPairs")).toBe(1);
    });

    test("⌈N/100⌉ DescribeInstances for 250 instances, one DescribeKeyPairs", async () => {
        const big = linuxInstances(250, "i-big");
        await f.close();
        f = await startFixture({ keyPairs: [{ name: "ops" }], instances: big });
        await f.hooks.check(
            NEW,
            desired(
                "ops",
                big.map((i) => i.id),
            ),
        );

        expect(f.emulator.callCounts()).toEqual({ DescribeInstances: 3, DescribeKeyPairs: 1 });
        expect(f.logs[0]).toMatch(/250 instance\(s\) would get the key: i-big0000, .* and 230 more\./);
    });

    test("ids not known yet are described only as far as they are known, and said to be not known yet", async () => {
        await f.hooks.check(NEW, desired("ops", ["i-web1", UNKNOWN_VALUE, UNKNOWN_VALUE]));

        expect(f.emulator.calls.find((c) => c.action === "DescribeInstances")?.instanceIds).toEqual(["i-web1"]);
        expect(f.logs[0]).toContain("2 instance id(s) not known yet (created in this run)");
    });

    test("a whole instance list not known yet makes no DescribeInstances", async () => {
        await f.hooks.check(NEW, desired("ops", UNKNOWN_LIST));

        expect(count(f, "DescribeInstances")).toBe(0);
        expect(f.logs[0]).toContain("instanceIds is not known yet");
    });

    test("a region not known yet: no call, and said to be not known yet", async () => {
        await f.hooks.check(NEW, desired("ops", FOUR, { region: UNKNOWN_VALUE }));
        expect(f.emulator.calls).toEqual([]);
        expect(f.logs).toEqual([
            "KeyPairAttachment (new): the region is not known yet (computed in this run): what the binding would do is not known yet; it is decided at `pulumi up`.",
        ]);
    });

    test("an existing resource's check makes no call (its diff speaks for it)", async () => {
        const news = desired("ops", FOUR);
        await f.hooks.check(news, news);
        expect(f.emulator.calls).toEqual([]);
        expect(f.logs).toEqual([]);
    });

    // What `up` refuses, the preview refuses, with the same message.
    test.each([
        ["a Windows instance", "ops", ["i-web1", "i-win1"], "instanceIds"],
        ["a Generation I instance", "ops", ["i-web1", "i-gen1"], "instanceIds"],
        ["a locked instance", "ops", ["i-web1", "i-locked"], "instanceIds"],
        ["a missing instance", "ops", ["i-web1", "i-gone"], "instanceIds"],
        ["an instance in another region", "ops", ["i-web1", "i-far"], "instanceIds"],
        ["a missing key pair", "nope", ["i-web1"], "keyPairName"],
    ])("refuses %s with up's message, sending nothing that changes ECS", async (_name, keyPairName, ids, property) => {
        const { failures } = await f.hooks.check(NEW, desired(keyPairName, ids));
        // A fresh process, as `up --skip-preview` would be: what does create say?
        const other = await startFixture(fleet);
        const upError = await other.hooks.create(desired(keyPairName, ids)).catch((e: unknown) => e);
        await other.close();

        expect(upError).toBeInstanceOf(Error);
        expect(failures).toEqual([{ property, reason: (upError as Error).message }]);
        expect(failures[0].reason).toContain(ids[1] ?? keyPairName);
        expect(mutatingCalls(f.emulator)).toEqual([]);
        expect(f.logs).toEqual([]);
    });
});

describe("preview of a change (diff)", () => {
    let f: Fixture;
    let id: string;
    let outs: KeyPairAttachmentOutputs;
    beforeEach(async () => {
        f = await startFixture(fleet);
        ({ id, outs } = await f.hooks.create(desired("ops", ["i-web1", "i-web2", "i-batch1"])));
        f.emulator.resetCalls();
        f.logs.length = 0;
    });
    afterEach(async () => f.close());

    test("a set change: the added instance, its restart, and the unbound one that needs a password reset", async () => {
        const news = desired("ops", ["i-web1", "i-batch1", "i-extra"]);
        expect(await f.hooks.diff(id, outs, news)).toEqual({ changes: true });

        expect(f.logs).toEqual([
            [
                `KeyPairAttachment ${id}: key pair "ops" in cn-hangzhou — 1 instance(s) would get the key: i-extra; 1 instance(s) would be unbound from it: i-web2.`,
                "    - restarted (Running; graceful reboot, all at once): i-extra",
                "    - unbound: i-web2 — reset their password before password logon (or set passwordOnUnbind)",
                "    - already hold the key (nothing to do): i-web1, i-batch1",
            ].join("\n"),
        ]);
        expect(mutatingCalls(f.emulator)).toEqual([]);
        expect(f.emulator.callCounts()).toEqual({ DescribeInstances: 1 }); // the key pair check is still fresh from the create
    });

    test("the update that follows uses the look-up (one DescribeInstances before any change)", async () => {
        const news = desired("ops", ["i-web1", "i-batch1", "i-extra"]);
        await f.hooks.diff(id, outs, news);
        const { outs: after } = await f.hooks.update(id, outs, news);

        expect(after.instanceIds).toEqual(["i-web1", "i-batch1", "i-extra"]);
        expect(countBefore(f, "DescribeInstances", "DetachKeyPair")).toBe(1);
    });

    test("passwordOnUnbind: the unbound instance gets it and a restart", async () => {
        await f.hooks.diff(id, outs, desired("ops", ["i-web1", "i-batch1"], { passwordOnUnbind: "Secret#2026" }));
        expect(f.logs[0]).toContain("- unbound and given passwordOnUnbind: i-web2");
        expect(f.logs[0]).toContain("- restarted (Running; graceful reboot, all at once): i-web2");
        expect(f.logs[0]).not.toContain("Secret#2026");
    });

    test("an added Windows instance fails the diff with the message the update would give", async () => {
        const news = desired("ops", ["i-web1", "i-web2", "i-batch1", "i-win1"]);
        const previewError = await f.hooks.diff(id, outs, news).catch((e: unknown) => e);
        const upError = await f.hooks.update(id, outs, news).catch((e: unknown) => e);

        expect(previewError).toBeInstanceOf(Error);
        expect((previewError as Error).message).toBe((upError as Error).message);
        expect((previewError as Error).message).toMatch(/i-win1: DependencyViolation\.WindowsInstance/);
        expect(mutatingCalls(f.emulator)).toEqual([]);
    });

    test("a restart setting alone makes no call and prints nothing", async () => {
        await f.hooks.diff(id, outs, desired("ops", ["i-web1", "i-web2", "i-batch1"], { restart: { batchSize: 3 } }));
        expect(f.emulator.calls).toEqual([]);
        expect(f.logs).toEqual([]);
    });
});

describe("the look-up is fresh for a few seconds only", () => {
    test("after LOOKUP_FRESH_MS on the injected clock the create describes again", async () => {
        let now = 1_000_000;
        const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
        // Stopped instances only: the create restarts nothing, so the manual clock drives no wait.
        const stopped = linuxInstances(3, "i-stop", { status: "Stopped" });
        const f = await startFixture({ keyPairs: [{ name: "ops" }], instances: stopped }, { clock });
        try {
            const ids = stopped.map((i) => i.id);
            await f.hooks.check(NEW, desired("ops", ids));
            now += LOOKUP_FRESH_MS;
            await f.hooks.create(desired("ops", ids));
            expect(countBefore(f, "DescribeInstances", "AttachKeyPair")).toBe(1);

            f.emulator.resetCalls();
            await f.hooks.check(NEW, desired("ops", ids));
            now += LOOKUP_FRESH_MS + 1;
            await f.hooks.create(desired("ops", ids));
            expect(countBefore(f, "DescribeInstances", "AttachKeyPair")).toBe(2);
        } finally {
            await f.close();
        }
    });
});
