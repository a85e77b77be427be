/**
 * Cloud Assistant through the SDK on a ManualClock: agent status, RunCommand and the invocation
 * lifecycle, the known script's effect on authorized_keys (never run), faults, paging.
 */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import {
    ARBITRARY_SCRIPT_OUTPUT,
    authorizedKeysEffect,
    EXIT_UNKNOWN_USER,
    ManualClock,
    scriptHash,
    startEmulator,
    type Emulator,
} from "../../emulator";
import { ecsClient, ecsErrorOf, REGION } from "./helpers";

/** Stands in for the package's script: the emulator knows it by its hash only. */
const KNOWN_SCRIPT = "#!/bin/bash\n# authorized_keys: add {{addKey}}, remove {{removeKey}} for {{users}}\n";
const OLD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOldOldOldO old@ops";
const NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewNewNewNewNewNewNewNewNewNewNewNewNewNewN new@ops $(touch /tmp/pwned) `id` 'q'";
const OTHER_LINES = ["# managed by hand", 'from="10.0.0.0/8",no-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQOther other@host'];
// Before timeScale: delivery 0.5 s, run 1.5 s.
const DELIVERY_MS = 500;
const RUN_MS = 1500;

let emulator: Emulator;
let client: Client;
const clock = new ManualClock();

beforeAll(async () => {
    emulator = await startEmulator({ clock, knownScripts: new Map([[scriptHash(KNOWN_SCRIPT), authorizedKeysEffect()]]) });
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
    emulator.faults.clear();
    emulator.model.reset({
        keyPairs: [
            { name: "old", publicKey: OLD_KEY },
            { name: "new", publicKey: NEW_KEY },
        ],
        instances: [
            { id: "i-a", keyPairName: "old", users: ["root", "deploy"], authorizedKeys: { deploy: [...OTHER_LINES, OLD_KEY] } },
            { id: "i-offline", cloudAssistant: false },
            { id: "i-stopped", status: "Stopped" },
            { id: "i-win", osType: "windows" },
        ],
    });
});

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const unb64 = (text?: string) => Buffer.from(text ?? "", "base64").toString("utf8");
const keys = (id: string) => emulator.model.instance(id)?.authorizedKeys;

async function runCommand(instanceIds: string[], script = KNOWN_SCRIPT, parameters?: Record<string, string>, timeout?: number) {
    const response = await client.runCommand(
        new ecs.RunCommandRequest({
            regionId: REGION,
            type: "RunShellScript",
            commandContent: b64(script),
            contentEncoding: "Base64",
            instanceId: instanceIds,
            enableParameter: parameters !== undefined,
            parameters,
            timeout,
        }),
    );
    return response.body?.invokeId ?? "";
}

const installNew = { users: "root,deploy", addKey: b64(NEW_KEY), removeKey: b64(OLD_KEY) };

async function results(invokeId: string, extra: Partial<ecs.DescribeInvocationResultsRequest> = {}) {
    const response = await client.describeInvocationResults(
        new ecs.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, ...extra }),
    );
    return response.body?.invocation;
}

async function resultOf(invokeId: string, instanceId: string) {
    return (await results(invokeId, { instanceId }))?.invocationResults?.invocationResult?.[0];
}

describe("the guest", () => {
    test("a reboot writes the bound key as the boot does, replacing the previous metadata key only", async () => {
        expect(keys("i-a")).toEqual({ root: [OLD_KEY], deploy: [...OTHER_LINES, OLD_KEY] });
        emulator.model.attachKeyPair("i-a", "new");
        await client.rebootInstances(new ecs.RebootInstancesRequest({ regionId: REGION, instanceId: ["i-a"] }));
        clock.advance(8000);
        expect(keys("i-a")).toEqual({ root: [NEW_KEY], deploy: [...OTHER_LINES, OLD_KEY] });
        expect(emulator.model.instance("i-a")?.effectiveKeyPairName).toBe("new");
    });
});

describe("DescribeCloudAssistantStatus", () => {
    test('gives the string "true" only for a running instance with its agent online', async () => {
        const response = await client.describeCloudAssistantStatus(
            new ecs.DescribeCloudAssistantStatusRequest({ regionId: REGION, instanceId: ["i-a", "i-offline", "i-stopped", "i-win"] }),
        );
        const statuses = response.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus ?? [];
        expect(statuses.map((s) => [s.instanceId, s.cloudAssistantStatus, s.OSType])).toEqual([
            ["i-a", "true", "Linux"],
            ["i-offline", "false", "Linux"],
            ["i-stopped", "false", "Linux"],
            ["i-win", "false", "Windows"],
        ]);
    });
});

describe("RunCommand with the known script", () => {
    test("Pending → Running → Success; the effect lands at the end: new line once per user, old line gone, others untouched", async () => {
        const invokeId = await runCommand(["i-a"], KNOWN_SCRIPT, installNew);
        expect(invokeId).toMatch(/^t-/);
        expect(await resultOf(invokeId, "i-a")).toMatchObject({ invocationStatus: "Pending", invokeRecordStatus: "Running" });
        clock.advance(DELIVERY_MS);
        expect(await resultOf(invokeId, "i-a")).toMatchObject({ invocationStatus: "Running" });
        expect(keys("i-a")?.root).toEqual([OLD_KEY]);
        clock.advance(RUN_MS);
        const done = await resultOf(invokeId, "i-a");
        expect(done).toMatchObject({ invocationStatus: "Success", invokeRecordStatus: "Finished", exitCode: 0, errorCode: "" });
        expect(unb64(done?.output)).toContain("root: done");
        // A key whose comment holds $(…), backticks and quotes is data: installed verbatim.
        expect(keys("i-a")).toEqual({ root: [NEW_KEY], deploy: [...OTHER_LINES, NEW_KEY] });
        expect(emulator.model.instance("i-a")?.rebootCount).toBe(0);

        // Idempotent: the same change again leaves the same lines.
        await runCommand(["i-a"], KNOWN_SCRIPT, installNew);
        clock.advance(DELIVERY_MS + RUN_MS);
        expect(keys("i-a")).toEqual({ root: [NEW_KEY], deploy: [...OTHER_LINES, NEW_KEY] });
        expect(emulator.model.instance("i-a")?.effectiveKeyPairName).toBe("new");
    });

    test("an unknown user fails the run with an exit code and an error output, and changes nothing", async () => {
        const invokeId = await runCommand(["i-a"], KNOWN_SCRIPT, { ...installNew, users: "root,nobody-here" });
        clock.advance(DELIVERY_MS + RUN_MS);
        const result = await resultOf(invokeId, "i-a");
        expect(result).toMatchObject({ invocationStatus: "Failed", exitCode: EXIT_UNKNOWN_USER, errorCode: "ExitCodeNonzero" });
        expect(unb64(result?.output)).toContain("no such user: nobody-here");
        expect(keys("i-a")?.root).toEqual([OLD_KEY]);
    });

    test("any other script is not run: it fails with an output saying so", async () => {
        const invokeId = await runCommand(["i-a"], "rm -rf / # not known");
        clock.advance(DELIVERY_MS + RUN_MS);
        const result = await resultOf(invokeId, "i-a");
        expect(result?.invocationStatus).toBe("Failed");
        expect(result?.exitCode).not.toBe(0);
        expect(unb64(result?.output)).toBe(ARBITRARY_SCRIPT_OUTPUT);
        const plain = await results(invokeId, { contentEncoding: "PlainText" });
        expect(plain?.invocationResults?.invocationResult?.[0]?.output).toBe(ARBITRARY_SCRIPT_OUTPUT);
        expect(keys("i-a")?.root).toEqual([OLD_KEY]);
    });
});

describe("faults", () => {
    test("agent offline, stopped and Windows instances fail at delivery; the others run", async () => {
        const invokeId = await runCommand(["i-a", "i-offline", "i-stopped", "i-win"], KNOWN_SCRIPT, installNew);
        clock.advance(DELIVERY_MS);
        const byInstance = Object.fromEntries(
            ((await results(invokeId))?.invocationResults?.invocationResult ?? []).map((r) => [
                r.instanceId ?? "",
                [r.invocationStatus, r.errorCode],
            ]),
        );
        expect(byInstance).toEqual({
            "i-a": ["Running", ""],
            "i-offline": ["Failed", "ClientNotRunning"],
            "i-stopped": ["Failed", "InstanceNotRunning"],
            "i-win": ["Failed", "CommandNotApplicable"],
        });
    });

    test("an injected failure and an injected timeout (after Timeout seconds)", async () => {
        emulator.model.addInstance({ id: "i-b" });
        emulator.faults.add({
            action: "RunCommand",
            instanceFailures: [
                { instanceId: "i-a", code: "ExitCodeNonzero", message: "disk full", exitCode: 2 },
                { instanceId: "i-b", code: "ExecutionTimeout" },
            ],
        });
        const invokeId = await runCommand(["i-a", "i-b"], KNOWN_SCRIPT, installNew, 30);
        clock.advance(DELIVERY_MS + RUN_MS);
        expect(await resultOf(invokeId, "i-a")).toMatchObject({ invocationStatus: "Failed", exitCode: 2, errorCode: "ExitCodeNonzero" });
        expect(unb64((await resultOf(invokeId, "i-a"))?.output)).toContain("disk full");
        expect((await resultOf(invokeId, "i-b"))?.invocationStatus).toBe("Running");
        clock.advance(30_000);
        expect(await resultOf(invokeId, "i-b")).toMatchObject({ invocationStatus: "Timeout", errorCode: "ExecutionTimeout" });
        expect(keys("i-a")?.root).toEqual([OLD_KEY]);
        expect(keys("i-b")?.root).toEqual([]);
    });
});

describe("limits, paging and DescribeInvocations", () => {
    test.each([
        ["101 instances", { instanceId: Array.from({ length: 101 }, (_, i) => `i-${i}`) }, "InvalidParameter.TooManyInstanceIds", 403],
        ["an unknown instance", { instanceId: ["i-gone"] }, "InvalidInstanceId.NotFound", 404],
        ["an unknown type", { type: "RunPython" }, "InvalidCmdType.NotFound", 400],
        ["Timeout 5", { timeout: 5 }, "InvalidTimeout.Malformed", 400],
        [
            "malformed Parameters",
            { enableParameter: true, parameters: { users: 3 } as unknown as Record<string, string> },
            "InvalidParameter.Parameters",
            400,
        ],
        ["no content", { commandContent: "" }, "MissingCommandContent", 400],
    ])("RunCommand refuses %s", async (_, extra, code, statusCode) => {
        const request = new ecs.RunCommandRequest({
            regionId: REGION,
            type: "RunShellScript",
            commandContent: "echo",
            instanceId: ["i-a"],
            ...extra,
        });
        expect(await ecsErrorOf(client.runCommand(request))).toMatchObject({ code, statusCode });
    });

    test("DescribeInvocationResults pages 120 instances by 50 with NextToken", async () => {
        const ids = Array.from({ length: 120 }, (_, i) => `i-p${i}`);
        for (const id of ids) emulator.model.addInstance({ id });
        const invokeId = await runCommand(ids.slice(0, 100), KNOWN_SCRIPT, installNew);
        const second = await runCommand(ids.slice(100), KNOWN_SCRIPT, installNew);
        clock.advance(DELIVERY_MS + RUN_MS);

        const seen: string[] = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
            const page = await results(invokeId, { maxResults: 50, nextToken });
            seen.push(...(page?.invocationResults?.invocationResult ?? []).map((r) => r.instanceId ?? ""));
            expect(page?.totalCount).toBe(100);
            nextToken = page?.nextToken || undefined;
            pages += 1;
        } while (nextToken !== undefined);
        expect(pages).toBe(2);
        expect(seen).toEqual(ids.slice(0, 100));
        expect((await results(second))?.totalCount).toBe(20);
    });

    test("DescribeInvocations gives the command, its parameters and each instance's status", async () => {
        const invokeId = await runCommand(["i-a", "i-offline"], KNOWN_SCRIPT, installNew);
        clock.advance(DELIVERY_MS + RUN_MS);
        const response = await client.describeInvocations(
            new ecs.DescribeInvocationsRequest({ regionId: REGION, invokeId, includeOutput: true }),
        );
        const invocation = response.body?.invocations?.invocation?.[0];
        expect(invocation).toMatchObject({
            invokeId,
            commandType: "RunShellScript",
            invocationStatus: "PartialFailed",
            timeout: 60,
            username: "root",
        });
        expect(unb64(invocation?.commandContent)).toBe(KNOWN_SCRIPT);
        expect(JSON.parse(invocation?.parameters ?? "{}")).toEqual(installNew);
        expect(invocation?.invokeInstances?.invokeInstance?.map((i) => [i.instanceId, i.invocationStatus])).toEqual([
            ["i-a", "Success"],
            ["i-offline", "Failed"],
        ]);
        expect(
            await ecsErrorOf(client.describeInvocations(new ecs.DescribeInvocationsRequest({ regionId: REGION, invokeId: "t-nope" }))),
        ).toMatchObject({
            code: "InvalidInvokeId.NotFound",
            statusCode: 404,
        });
    });
});
