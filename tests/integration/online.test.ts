/**
 * Online activation (issue 12) through the real SDK against the emulator: the key in effect without
 * a restart, each fallback (agent off, command failed, timed out), fallback "fail" with its partial
 * state, paging of invocation results over 100+ instances, rolling waves, online unbind on update and
 * delete, the replaced key pair gone, and a key comment with shell syntax installed verbatim.
 */
import { PartialBindingError } from "../../provider/lifecycle";
import { AUTHORIZED_KEYS_SCRIPT_SHA256 } from "../../provider/online/script";
import { createHash } from "node:crypto";
import { ManualClock } from "../../emulator";
import { RESULT_GRACE_MS } from "../../provider/online/activate";
import { Fixture, inputs, linuxInstances, rejectionOf, startFixture, steppingClock } from "./fixture";
import { commandsTimeOut, keysOf } from "./online-emulator";

// Real ed25519 public keys (made once with ssh-keygen; the private halves were thrown away).
const OLD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9HwZYgYEksakioluMTQhrmRz6rR0lYEQ5rpTedjPP4 old@ops";
const NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILYG0ujz1438iUPF7KoLV4vG2i5j0e08jktfvwKPMqNJ new@ops";
const OTHER_LINE = 'from="10.0.0.0/8" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBOExNdTK8cUatxkOw5wWXMG7NISOViWqDodPLW7g4Ll backup # keep me';
const NASTY_KEY =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINClGu8v/byIg+faPMW07MJN44fMHUaY1JhaxtZjVtLc $(touch /tmp/kpa-pwned) `id` 'q' \"dq\"";

const ONLINE = { activation: "online" } as const;
const KEY_PAIRS = [
    { name: "old", publicKey: OLD_KEY },
    { name: "new", publicKey: NEW_KEY },
];

const rebootCount = (f: Fixture, id: string) => f.emulator.model.instance(id)?.rebootCount;
const callsOf = (f: Fixture, action: string) => f.emulator.calls.filter((c) => c.action === action);

describe("online activation", () => {
    let f: Fixture;
    afterEach(async () => f?.close());

    test("puts the key in effect without a restart: new line added, replaced line removed, other lines kept; Stopped pending", async () => {
        f = await startFixture({
            keyPairs: KEY_PAIRS,
            instances: [
                { id: "i-on1", keyPairName: "old", authorizedKeys: { root: [OTHER_LINE] } },
                { id: "i-on2" },
                { id: "i-stop", status: "Stopped", keyPairName: "old" },
            ],
        });
        const { id, outs } = await f.hooks.create(inputs("new", ["i-on1", "i-on2", "i-stop"], ONLINE));

        expect(outs.onlineActivatedInstanceIds).toEqual(["i-on1", "i-on2"]);
        expect(outs.restartedInstanceIds).toEqual([]);
        expect(outs.pendingRestartInstanceIds).toEqual(["i-stop"]);
        expect(outs.replacedKeyPairs).toEqual({ "i-on1": "old", "i-stop": "old" });
        expect(outs).toMatchObject({ activation: "online" });
        expect(keysOf(f, "i-on1")).toEqual([OTHER_LINE, NEW_KEY]);
        expect(keysOf(f, "i-on2")).toEqual([NEW_KEY]);
        for (const i of ["i-on1", "i-on2", "i-stop"]) expect(rebootCount(f, i)).toBe(0);
        expect(callsOf(f, "RebootInstances")).toEqual([]);

        // The calls: public keys (IncludePublicKey) and agents before AttachKeyPair, the package's script after it.
        const actions = f.emulator.calls.map((c) => c.action);
        expect(actions.indexOf("DescribeCloudAssistantStatus")).toBeLessThan(actions.indexOf("AttachKeyPair"));
        expect(
            callsOf(f, "DescribeKeyPairs")
                .filter((c) => c.params.IncludePublicKey === "true")
                .map((c) => c.params.KeyPairName)
                .sort(),
        ).toEqual(["new", "old"]);
        // One command per change: i-on1 also drops the replaced key's line, i-on2 had no key.
        const runs = callsOf(f, "RunCommand");
        expect(actions.indexOf("RunCommand")).toBeGreaterThan(actions.indexOf("AttachKeyPair"));
        expect(runs.map((c) => c.instanceIds).sort()).toEqual([["i-on1"], ["i-on2"]]);
        for (const run of runs) {
            expect(run.params).toMatchObject({ Type: "RunShellScript", ContentEncoding: "Base64", EnableParameter: "true", Timeout: "60" });
            expect(createHash("sha256").update(Buffer.from(run.params.CommandContent, "base64")).digest("hex")).toBe(
                AUTHORIZED_KEYS_SCRIPT_SHA256,
            );
            // The public keys travel Base64-encoded as parameters, never in the script text.
            expect(Buffer.from(run.params.CommandContent, "base64").toString()).not.toContain("AAAAC3Nza");
            expect(JSON.parse(run.params.Parameters)).toMatchObject({ addKey: Buffer.from(NEW_KEY).toString("base64") });
        }
        expect(JSON.parse(runs.find((c) => c.instanceIds[0] === "i-on1")!.params.Parameters)).toMatchObject({
            removeKeys: Buffer.from(OLD_KEY).toString("base64"),
        });
        expect(f.logs.join("\n")).toMatch(
            new RegExp(`${id} created: 3 instance\\(s\\).*in effect without a restart \\(Cloud Assistant\\): i-on1, i-on2`),
        );
    });

    test('fallback "restart": agent off, command failed (unknown user) and timed out are restarted, each reason in the summary', async () => {
        f = await startFixture({
            keyPairs: KEY_PAIRS,
            instances: [
                { id: "i-ok", users: ["root", "deploy"] },
                { id: "i-noagent", users: ["root", "deploy"], cloudAssistant: false },
                { id: "i-nouser", users: ["root"] },
                { id: "i-slow", users: ["root", "deploy"] },
            ],
        });
        commandsTimeOut(f, ["i-slow"]);
        const { outs } = await f.hooks.create(
            inputs("new", ["i-ok", "i-noagent", "i-nouser", "i-slow"], { ...ONLINE, online: { users: ["deploy"], timeoutSeconds: 10 } }),
        );

        expect(outs.onlineActivatedInstanceIds).toEqual(["i-ok"]);
        expect(outs.restartedInstanceIds.sort()).toEqual(["i-noagent", "i-nouser", "i-slow"]);
        expect(outs.pendingRestartInstanceIds).toEqual([]);
        expect(rebootCount(f, "i-ok")).toBe(0);
        for (const i of ["i-noagent", "i-nouser", "i-slow"]) expect(rebootCount(f, i)).toBe(1);
        expect(keysOf(f, "i-ok", "deploy")).toEqual([NEW_KEY]);
        // The agent-less instance was never sent the command.
        expect(callsOf(f, "RunCommand").flatMap((c) => c.instanceIds)).not.toContain("i-noagent");
        const summary = f.logs.join("\n");
        expect(summary).toMatch(/fell back to a restart/);
        expect(summary).toMatch(
            /i-noagent: CloudAssistant.AgentNotRunning its Cloud Assistant agent is not running \(DescribeCloudAssistantStatus: false\)/,
        );
        expect(summary).toMatch(
            /i-nouser: CloudAssistant.CommandFailed Cloud Assistant command ended Failed, exit code \d+.*output: .*deploy/,
        );
        expect(summary).toMatch(/i-slow: CloudAssistant.CommandFailed Cloud Assistant command ended Timeout/);
    });

    test('fallback "fail": the failed instances fail with the reason; the partial state records them bound and pending, nothing restarted', async () => {
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: [{ id: "i-ok" }, { id: "i-noagent", cloudAssistant: false }] });
        const error = await rejectionOf(f.hooks.create(inputs("new", ["i-ok", "i-noagent"], { ...ONLINE, online: { fallback: "fail" } })));

        expect(error).toBeInstanceOf(PartialBindingError);
        const partial = error as PartialBindingError;
        expect(partial.message).toMatch(/i-noagent: CloudAssistant.AgentNotRunning .*agent is not running/);
        expect(partial.properties).toMatchObject({
            instanceIds: ["i-ok", "i-noagent"],
            onlineActivatedInstanceIds: ["i-ok"],
            restartedInstanceIds: [],
            pendingRestartInstanceIds: ["i-noagent"],
        });
        expect(partial.reasons).toEqual([expect.stringMatching(/^i-noagent: CloudAssistant.AgentNotRunning/)]);
        expect(callsOf(f, "RebootInstances")).toEqual([]);
        expect(f.emulator.model.instance("i-noagent")).toMatchObject({ keyPairName: "new", rebootCount: 0 });
    });

    test("120 instances: RunCommand takes 100 a call, results are read page by page (50) until every instance is in", async () => {
        const fleet = linuxInstances(120, "i-big", { keyPairName: "old" });
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: fleet });
        const ids = fleet.map((i) => i.id);
        const { outs } = await f.hooks.create(inputs("new", ids, ONLINE));

        expect([...(outs.onlineActivatedInstanceIds ?? [])].sort()).toEqual([...ids].sort());
        expect(outs.restartedInstanceIds).toEqual([]);
        expect(
            callsOf(f, "RunCommand")
                .map((c) => c.instanceIds.length)
                .sort((a, b) => b - a),
        ).toEqual([100, 20]);
        const pages = callsOf(f, "DescribeInvocationResults");
        expect(pages.every((c) => Number(c.params.MaxResults) <= 50)).toBe(true);
        expect(pages.some((c) => c.params.NextToken)).toBe(true);
        expect(f.emulator.model.instances().every((i) => i.rebootCount === 0 && i.keyPairName === "new")).toBe(true);
        for (const id of ids) expect(keysOf(f, id)).toEqual([NEW_KEY]);
    });

    test("restart.batchSize paces online waves: a failed wave stops the run; later waves are bound, owed and reported", async () => {
        f = await startFixture({
            keyPairs: KEY_PAIRS,
            instances: [
                { id: "i-w1a", users: ["root", "deploy"] },
                { id: "i-w1b", users: ["root"] },
                { id: "i-w2a", users: ["root", "deploy"] },
                { id: "i-w2b", users: ["root", "deploy"] },
            ],
        });
        const ids = ["i-w1a", "i-w1b", "i-w2a", "i-w2b"];
        const error = await rejectionOf(
            f.hooks.create(
                inputs("new", ids, {
                    ...ONLINE,
                    online: { users: ["deploy"] },
                    restart: { pollIntervalSeconds: 0.02, timeoutSeconds: 10, batchSize: 2 },
                }),
            ),
        );

        expect(error).toBeInstanceOf(PartialBindingError);
        expect(
            callsOf(f, "RunCommand")
                .flatMap((c) => c.instanceIds)
                .sort(),
        ).toEqual(["i-w1a", "i-w1b"]);
        const { properties, message } = error as PartialBindingError;
        expect(properties).toMatchObject({
            instanceIds: ids,
            onlineActivatedInstanceIds: ["i-w1a"],
            // The failed instance of the wave fell back to a restart; the cut-off ones are owed one.
            restartedInstanceIds: ["i-w1b"],
            pendingRestartInstanceIds: ["i-w2a", "i-w2b"],
            restartOwedInstanceIds: ["i-w2a", "i-w2b"],
        });
        expect(message).toMatch(/i-w2a, i-w2b: CloudAssistant.WaveStopped .*earlier online wave failed/);
        expect(rebootCount(f, "i-w2a")).toBe(0);
    });

    test("the new actions follow the gateway's rules: throttled and 503 answers are retried; RunCommand keeps its ClientToken", async () => {
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: [{ id: "i-a", keyPairName: "old" }] });
        f.emulator.faults.add({ action: "DescribeCloudAssistantStatus", code: "Throttling", times: 1 });
        f.emulator.faults.add({ action: "RunCommand", code: "ServiceUnavailable", times: 1 });
        f.emulator.faults.add({ action: "DescribeInvocationResults", code: "InternalError", times: 1 });
        const { outs } = await f.hooks.create(inputs("new", ["i-a"], ONLINE));

        expect(outs.onlineActivatedInstanceIds).toEqual(["i-a"]);
        expect(keysOf(f, "i-a")).toEqual([NEW_KEY]);
        const runs = callsOf(f, "RunCommand");
        expect(runs.map((c) => c.status)).toEqual([503, 200]);
        expect(runs[0].params.ClientToken).toMatch(/^kpa-[0-9a-f]{32}$/);
        expect(runs[1].params.ClientToken).toBe(runs[0].params.ClientToken);
        expect(callsOf(f, "DescribeCloudAssistantStatus").map((c) => c.status)).toEqual([400, 200]);
    });

    test("concurrent online attachments share DescribeCloudAssistantStatus calls (50 ids a call)", async () => {
        const fleet = linuxInstances(60, "i-co");
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: fleet });
        const ids = fleet.map((i) => i.id);
        const results = await Promise.all([
            f.hooks.create(inputs("new", ids.slice(0, 30), ONLINE)),
            f.hooks.create(inputs("new", ids.slice(30), ONLINE)),
        ]);

        expect(results.flatMap((r) => r.outs.onlineActivatedInstanceIds ?? []).sort()).toEqual(ids);
        expect(callsOf(f, "DescribeCloudAssistantStatus").map((c) => c.instanceIds.length)).toEqual([50, 10]);
    });

    test("a command whose result never comes goes to the fallback once its timeout plus the grace passed on the provider's clock", async () => {
        // The emulator's clock stands still, so the invocation stays Pending; the provider's clock steps on every sleep.
        const clock = steppingClock();
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: [{ id: "i-a" }] }, { emulator: { clock: new ManualClock() }, clock });
        const error = await rejectionOf(
            f.hooks.create(
                inputs("new", ["i-a"], {
                    ...ONLINE,
                    online: { fallback: "fail", timeoutSeconds: 10 },
                    restart: { pollIntervalSeconds: 1, timeoutSeconds: 10 },
                }),
            ),
        );

        expect(error.message).toMatch(
            /i-a: CloudAssistant.NoResult the Cloud Assistant command did not finish within 10 s plus 30 s \(last status Pending\)/,
        );
        expect(error.properties).toMatchObject({
            instanceIds: ["i-a"],
            pendingRestartInstanceIds: ["i-a"],
            onlineActivatedInstanceIds: [],
        });
        expect(clock.elapsedMs()).toBeGreaterThanOrEqual(10_000 + RESULT_GRACE_MS);
        // One read a second until the deadline, not a tight loop.
        expect(callsOf(f, "DescribeInvocationResults").length).toBeLessThanOrEqual((10_000 + RESULT_GRACE_MS) / 1000 + 1);
    });

    test("the replaced key pair no longer exists: the new key is installed, the summary names the instance whose old line stays", async () => {
        f = await startFixture({ keyPairs: [{ name: "new", publicKey: NEW_KEY }], instances: [{ id: "i-a", keyPairName: "deleted-key" }] });
        const { outs } = await f.hooks.create(inputs("new", ["i-a"], ONLINE));

        expect(outs.onlineActivatedInstanceIds).toEqual(["i-a"]);
        expect(keysOf(f, "i-a")).toContain(NEW_KEY);
        expect(f.logs.join("\n")).toMatch(
            /the line of the replaced key pair "deleted-key" on i-a could not be removed from authorized_keys/,
        );
    });

    test("a key whose comment holds $(…), backticks and quotes is installed verbatim", async () => {
        f = await startFixture({ keyPairs: [{ name: "nasty", publicKey: NASTY_KEY }], instances: [{ id: "i-a" }] });
        const { outs } = await f.hooks.create(inputs("nasty", ["i-a"], ONLINE));

        expect(outs.onlineActivatedInstanceIds).toEqual(["i-a"]);
        expect(keysOf(f, "i-a")).toEqual([NASTY_KEY]);
        const [run] = callsOf(f, "RunCommand");
        expect(JSON.stringify(run.params)).not.toContain("$(touch");
    });

    test("online unbind: an update that removes an instance and the delete detach, then remove the key's line without a restart", async () => {
        f = await startFixture({
            keyPairs: KEY_PAIRS,
            instances: [{ id: "i-a", authorizedKeys: { root: [OTHER_LINE] } }, { id: "i-b" }, { id: "i-c", cloudAssistant: false }],
        });
        const { id, outs } = await f.hooks.create(inputs("new", ["i-a", "i-b", "i-c"], ONLINE));
        expect(outs.onlineActivatedInstanceIds).toEqual(["i-a", "i-b"]);
        expect(outs.restartedInstanceIds).toEqual(["i-c"]);

        const { outs: updated } = await f.hooks.update(id, outs, inputs("new", ["i-a", "i-c"], ONLINE));
        expect(updated.instanceIds).toEqual(["i-a", "i-c"]);
        expect(updated.passwordResetRequiredInstanceIds).toEqual(["i-b"]);
        expect(keysOf(f, "i-b")).toEqual([]);
        expect(f.emulator.model.instance("i-b")).toMatchObject({ keyPairName: undefined, rebootCount: 0 });

        f.emulator.resetCalls();
        f.logs.length = 0;
        await f.hooks.delete(id, updated);
        const actions = f.emulator.calls.map((c) => c.action);
        expect(actions.indexOf("DetachKeyPair")).toBeLessThan(actions.indexOf("RunCommand"));
        expect(keysOf(f, "i-a")).toEqual([OTHER_LINE]);
        expect(rebootCount(f, "i-a")).toBe(0);
        // No agent on i-c: the fallback restarts it so that the removal takes effect.
        expect(rebootCount(f, "i-c")).toBe(2);
        expect(f.logs.join("\n")).toMatch(
            /removed without a restart \(Cloud Assistant\) on i-a\. Fell back to a restart.*i-c: CloudAssistant.AgentNotRunning/,
        );
    });

    test('online unbind with fallback "fail": the delete fails naming the instance whose line stays; a second delete completes', async () => {
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: [{ id: "i-a" }] });
        const settings = { ...ONLINE, online: { fallback: "fail" as const } };
        const { id, outs } = await f.hooks.create(inputs("new", ["i-a"], settings));
        f.emulator.model.setCloudAssistant("i-a", false);

        const error = await rejectionOf(f.hooks.delete(id, outs));
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(
            /Key pair "new" was unbound, but its line could not be removed .*i-a: CloudAssistant.AgentNotRunning/,
        );
        expect(f.emulator.model.instance("i-a")).toMatchObject({ keyPairName: undefined, rebootCount: 0 });
        await expect(f.hooks.delete(id, outs)).resolves.toBeUndefined();
    });

    test("the online reads go out with the validating DescribeInstances: a refused create has read them and changed nothing", async () => {
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: [{ id: "i-a" }, { id: "i-win", osType: "windows" }] });
        const error = await rejectionOf(f.hooks.create(inputs("new", ["i-a", "i-win"], ONLINE)));

        expect(error.message).toMatch(/i-win/);
        // Asked without waiting for the DescribeInstances answer (which refused i-win): no step of their own.
        expect(callsOf(f, "DescribeCloudAssistantStatus").map((c) => c.instanceIds.sort())).toEqual([["i-a", "i-win"]]);
        expect(callsOf(f, "DescribeKeyPairs").filter((c) => c.params.IncludePublicKey === "true")).toHaveLength(1);
        for (const action of ["TagResources", "AttachKeyPair", "RunCommand", "RebootInstances"]) expect(callsOf(f, action)).toEqual([]);
    });

    test("an online update asks for the agents of the added instances only", async () => {
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: linuxInstances(3, "i-u") });
        const { id, outs } = await f.hooks.create(inputs("new", ["i-u0000", "i-u0001"], ONLINE));
        f.emulator.resetCalls();
        const { outs: updated } = await f.hooks.update(id, outs, inputs("new", ["i-u0000", "i-u0001", "i-u0002"], ONLINE));

        expect(callsOf(f, "DescribeCloudAssistantStatus").flatMap((c) => c.instanceIds)).toEqual(["i-u0002"]);
        expect(updated.onlineActivatedInstanceIds).toEqual(["i-u0002"]);
        expect(keysOf(f, "i-u0002")).toEqual([NEW_KEY]);
    });

    test("a change of activation alone is an update without API calls; restart mode is unchanged", async () => {
        f = await startFixture({ keyPairs: KEY_PAIRS, instances: [{ id: "i-a" }] });
        const { id, outs } = await f.hooks.create(inputs("new", ["i-a"]));
        expect(outs.restartedInstanceIds).toEqual(["i-a"]);
        expect(outs.onlineActivatedInstanceIds).toEqual([]);
        expect(callsOf(f, "RunCommand")).toEqual([]);
        expect(callsOf(f, "DescribeCloudAssistantStatus")).toEqual([]);

        expect(await f.hooks.diff(id, outs, inputs("new", ["i-a"], ONLINE) as never)).toEqual({ changes: true });
        f.emulator.resetCalls();
        const { outs: updated } = await f.hooks.update(id, outs, inputs("new", ["i-a"], ONLINE));
        expect(f.emulator.calls).toEqual([]);
        expect(updated).toMatchObject({ activation: "online", restartedInstanceIds: [], onlineActivatedInstanceIds: [] });
    });
});
