/**
 * DESIGN §8 layer 3: the real KeyPairAttachment provider inside the real `@pulumi/pulumi`
 * dynamic-provider host, driven over gRPC in the order the engine drives it
 * (Configure → Check → Diff → Create → Read → Update → Delete), against the ECS emulator.
 *
 * The provider is the compiled package (`npm run build`), serialized as `dynamic.Resource` does
 * and loaded by the host from a program directory that installs the package by name.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { startEmulator, type Emulator } from "../../emulator";
import {
    createProgramDir,
    HostClient,
    HostRpcError,
    PACKAGE_NAME,
    PropertyMap,
    PROVIDER_KEY,
    REPO_ROOT,
    rpcFailureOf,
    serializeProviderLikeDynamicResource,
    startDynamicProviderHost,
    UNKNOWN,
} from "./host";

const TYPE = "pulumi-nodejs:dynamic/alicloud-ecs:KeyPairAttachment";
const urnOf = (name: string): string => `urn:pulumi:dev::proj::${TYPE}::${name}`;
const URN = urnOf("ops");

const REGION = "cn-hangzhou";
/** Unique per run, so finding it anywhere in the host's traffic can only mean a leak. */
const CANARY_ACCESS_KEY_ID = `canary-id-${randomUUID()}`;
const CANARY_SECRET = `canary-secret-${randomUUID()}`;

/** With timeScale 0.01 a reboot takes ~80 ms; poll faster than that. */
const FAST_RESTART = { pollIntervalSeconds: 0.02, timeoutSeconds: 30 };

let emulator: Emulator;
let program: { dir: string; remove(): Promise<void> };
let host: HostClient;
let providerText: string;
/** Every response and error the host sent back, for the canary scan. */
const transcript: unknown[] = [];

function hostEnv(endpointUrl: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
        if (!/^(ALIBABA_CLOUD_|ALICLOUD_)/.test(key)) env[key] = value;
    }
    return { ...env, ALIBABA_CLOUD_ECS_ENDPOINT: endpointUrl };
}

/** The host runs the compiled package, so a stale `dist/` would test yesterday's provider. */
function assertProviderBuildIsFresh(): void {
    const sourceDir = path.join(REPO_ROOT, "provider");
    const sources = (fs.readdirSync(sourceDir, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    const stale = sources.filter((source) => {
        const compiled = path.join(REPO_ROOT, "dist", "provider", source.replace(/\.ts$/, ".js"));
        return !fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(path.join(sourceDir, source)).mtimeMs;
    });
    if (stale.length > 0) {
        throw new Error(`dist/provider is missing or older than ${stale.join(", ")}: run \`npm run build\` before the engine tests`);
    }
}

beforeAll(async () => {
    assertProviderBuildIsFresh();
    emulator = await startEmulator({
        timeScale: 0.01,
        seed: {
            accessKeys: [{ accessKeyId: CANARY_ACCESS_KEY_ID, accessKeySecret: CANARY_SECRET }],
            keyPairs: [{ name: "ops-2026" }, { name: "ops-2027" }, { name: "legacy-key" }],
            instances: [
                { id: "i-web1" },
                { id: "i-web2" },
                { id: "i-web3", status: "Stopped" },
                { id: "i-web4", keyPairName: "legacy-key" },
                { id: "i-extra" },
                { id: "i-win1", osType: "windows" },
                { id: "i-spare" },
                { id: "i-fail1" },
                { id: "i-fail2" },
                { id: "i-pw1" },
                { id: "i-pw2" },
            ],
        },
    });
    program = await createProgramDir();
    const serialized = await serializeProviderLikeDynamicResource({
        module: PACKAGE_NAME,
        exportName: "keyPairAttachmentProvider",
        cwd: program.dir,
    });
    providerText = serialized.text;
    host = await startDynamicProviderHost({ cwd: program.dir, env: hostEnv(emulator.url) });
}, 60_000);

afterAll(async () => {
    await host?.close();
    await program?.remove();
    await emulator?.close();
});

async function recorded<T>(call: Promise<T>): Promise<T> {
    try {
        const result = await call;
        transcript.push(result);
        return result;
    } catch (error) {
        transcript.push(error instanceof HostRpcError ? { message: error.message, initFailure: error.initFailure } : String(error));
        throw error;
    }
}

function rejection(call: Promise<unknown>): Promise<HostRpcError> {
    return rpcFailureOf(recorded(call));
}

function withProvider(inputs: PropertyMap): PropertyMap {
    return { ...inputs, [PROVIDER_KEY]: providerText };
}

const sorted = (ids: unknown): string[] => [...(ids as string[])].sort();

function instance(id: string) {
    const view = emulator.model.instance(id);
    if (!view) throw new Error(`emulator has no instance ${id}`);
    return view;
}

describe("the serialized provider", () => {
    test("is a thin loader: small, and loads the installed package by name", () => {
        expect(providerText.length).toBeLessThan(4096);
        expect(providerText).toContain(`require("${PACKAGE_NAME}`);
    });
});

describe("KeyPairAttachment through the engine protocol", () => {
    // The engine's sequence for one resource: state flows from each step into the next.
    const inputs = {
        keyPairName: "ops-2026",
        instanceIds: ["i-web1", "i-web2", "i-web3", "i-web4"],
        restart: FAST_RESTART,
    };
    let checkedInputs: PropertyMap;
    let id: string;
    let state: PropertyMap;

    test("configure takes the stack configuration with namespaced keys and a secret", async () => {
        const result = await recorded(
            host.configure(
                { "alicloud:region": REGION, "alicloud:accessKey": CANARY_ACCESS_KEY_ID, "alicloud:secretKey": CANARY_SECRET },
                { secretKeys: ["alicloud:secretKey"] },
            ),
        );
        expect(result.acceptSecrets).toBe(false);
    });

    test("check reports failures by property and makes no API call", async () => {
        emulator.resetCalls();
        const badKey = await recorded(host.check(URN, {}, withProvider({ ...inputs, keyPairName: "9-not-a-key" })));
        expect(badKey.failures.map((f) => f.property)).toContain("keyPairName");
        expect(badKey.failures.find((f) => f.property === "keyPairName")?.reason).toContain("9-not-a-key");

        const badIds = await recorded(host.check(URN, {}, withProvider({ ...inputs, instanceIds: ["i-web1", "web2", "i-web1"] })));
        expect(badIds.failures.map((f) => f.property)).toContain("instanceIds");

        const badBatch = await recorded(host.check(URN, {}, withProvider({ ...inputs, restart: { batchSize: -1 } })));
        expect(badBatch.failures.map((f) => f.property)).toContain("restart.batchSize");

        expect(emulator.calls).toHaveLength(0);
    });

    test("check accepts the unknown sentinel anywhere (preview)", async () => {
        const unknownName = await recorded(host.check(URN, {}, withProvider({ ...inputs, keyPairName: UNKNOWN })));
        expect(unknownName.failures).toEqual([]);
        const unknownElement = await recorded(host.check(URN, {}, withProvider({ ...inputs, instanceIds: [UNKNOWN, "i-web1"] })));
        expect(unknownElement.failures).toEqual([]);
        const unknownList = await recorded(host.check(URN, {}, withProvider({ ...inputs, instanceIds: UNKNOWN })));
        expect(unknownList.failures).toEqual([]);
    });

    test("check of the real inputs passes them on with the provider", async () => {
        const result = await recorded(host.check(URN, {}, withProvider(inputs)));
        expect(result.failures).toEqual([]);
        expect(result.inputs).toMatchObject({ keyPairName: "ops-2026", [PROVIDER_KEY]: providerText });
        expect(sorted(result.inputs.instanceIds)).toEqual(sorted(inputs.instanceIds));
        checkedInputs = result.inputs;
    });

    test("create binds, restarts the running instances and flags the stopped one", async () => {
        const created = await recorded(host.create(URN, checkedInputs));
        expect(created.id).not.toBe("");
        expect(created.properties).toMatchObject({
            keyPairName: "ops-2026",
            region: REGION,
            passwordResetRequiredInstanceIds: [],
            replacedKeyPairs: { "i-web4": "legacy-key" },
            [PROVIDER_KEY]: providerText,
        });
        expect(sorted(created.properties.instanceIds)).toEqual(["i-web1", "i-web2", "i-web3", "i-web4"]);
        expect(sorted(created.properties.restartedInstanceIds)).toEqual(["i-web1", "i-web2", "i-web4"]);
        expect(created.properties.pendingRestartInstanceIds).toEqual(["i-web3"]);

        for (const running of ["i-web1", "i-web2", "i-web4"]) {
            expect(instance(running)).toMatchObject({
                status: "Running",
                keyPairName: "ops-2026",
                effectiveKeyPairName: "ops-2026",
                rebootCount: 1,
            });
        }
        expect(instance("i-web3")).toMatchObject({ status: "Stopped", keyPairName: "ops-2026", rebootCount: 0 });
        id = created.id;
        state = created.properties;
    });

    test("diff: reordering instanceIds is no change", async () => {
        const news = await recorded(
            host.check(URN, checkedInputs, withProvider({ ...inputs, instanceIds: [...inputs.instanceIds].reverse() })),
        );
        const diff = await recorded(host.diff(id, URN, state, news.inputs, { oldInputs: checkedInputs }));
        expect(diff.changes).toBe("DIFF_NONE");
    });

    test("diff: a region change replaces, deleting first", async () => {
        const news = await recorded(host.check(URN, checkedInputs, withProvider({ ...inputs, region: "cn-shanghai" })));
        const diff = await recorded(host.diff(id, URN, state, news.inputs, { oldInputs: checkedInputs }));
        expect(diff).toEqual({ changes: "DIFF_SOME", replaces: ["region"], deleteBeforeReplace: true });
    });

    test("diff: a restart-only change is an update, not a replace", async () => {
        const news = await recorded(
            host.check(URN, checkedInputs, withProvider({ ...inputs, restart: { ...FAST_RESTART, batchSize: 2 } })),
        );
        const diff = await recorded(host.diff(id, URN, state, news.inputs, { oldInputs: checkedInputs }));
        expect(diff).toEqual({ changes: "DIFF_SOME", replaces: [], deleteBeforeReplace: false });
    });

    test("read (refresh) drops an instance detached out of band and keeps the id", async () => {
        emulator.model.detachKeyPair("i-web2");
        const read = await recorded(host.read(id, URN, state, { inputs: checkedInputs }));
        expect(read.id).toBe(id);
        expect(sorted(read.properties.instanceIds)).toEqual(["i-web1", "i-web3", "i-web4"]);
        expect(read.properties[PROVIDER_KEY]).toBe(providerText);
        state = read.properties;
        if (read.inputs) checkedInputs = read.inputs;
    });

    test("update attaches only the added instance and detaches only the removed one", async () => {
        const news = await recorded(
            host.check(URN, checkedInputs, withProvider({ ...inputs, instanceIds: ["i-web1", "i-web3", "i-extra"] })),
        );
        expect(news.failures).toEqual([]);
        const diff = await recorded(host.diff(id, URN, state, news.inputs, { oldInputs: checkedInputs }));
        expect(diff).toMatchObject({ changes: "DIFF_SOME", replaces: [] });

        const updated = await recorded(host.update(id, URN, state, news.inputs, { oldInputs: checkedInputs }));
        expect(sorted(updated.properties.instanceIds)).toEqual(["i-extra", "i-web1", "i-web3"]);
        expect(updated.properties.restartedInstanceIds).toEqual(["i-extra"]);
        expect(updated.properties.passwordResetRequiredInstanceIds).toEqual(["i-web4"]);
        expect(updated.properties[PROVIDER_KEY]).toBe(providerText);

        expect(instance("i-extra")).toMatchObject({
            status: "Running",
            keyPairName: "ops-2026",
            effectiveKeyPairName: "ops-2026",
            rebootCount: 1,
        });
        expect(instance("i-web4").keyPairName).toBeUndefined();
        expect(instance("i-web1").rebootCount).toBe(1);
        expect(instance("i-web2").keyPairName).toBeUndefined();
        checkedInputs = news.inputs;
        state = updated.properties;
    });

    test("delete unbinds only instances that still hold the key and names those needing a password reset", async () => {
        // Out of band, i-web3 moved to another key: delete must leave it alone.
        emulator.model.attachKeyPair("i-web3", "ops-2027");
        const rebootsBefore = instance("i-web1").rebootCount;
        const stdoutBefore = host.stdout().length;

        await recorded(host.delete(id, URN, state, { oldInputs: checkedInputs }));

        expect(instance("i-web1").keyPairName).toBeUndefined();
        expect(instance("i-extra").keyPairName).toBeUndefined();
        expect(instance("i-web3").keyPairName).toBe("ops-2027");
        expect(instance("i-web1").rebootCount).toBe(rebootsBefore);

        // Only the host's own output reaches the CLI on delete (DESIGN §2): it must name them.
        const deleteOutput = await host.waitForOutput("stdout", /password/i, { since: stdoutBefore });
        const line = deleteOutput.split("\n").find((l) => /password/i.test(l)) ?? "";
        expect(line).toContain("i-web1");
        expect(line).toContain("i-extra");
        expect(line).not.toContain("i-web3");
    });
});

describe("failures reported through the engine protocol", () => {
    test("a Windows instance fails check (the preview) and create with one message, names the instance, and changes nothing", async () => {
        emulator.resetCalls();
        const urn = urnOf("win");
        const inputs = withProvider({ keyPairName: "ops-2026", instanceIds: ["i-spare", "i-win1"], restart: FAST_RESTART });
        const checked = await recorded(host.check(urn, {}, inputs));
        expect(checked.failures.map((f) => f.property)).toEqual(["instanceIds"]);
        expect(checked.failures[0].reason).toMatch(/i-win1: DependencyViolation\.WindowsInstance/);

        const error = await rejection(host.create(urn, inputs));
        expect(error.details).toContain(checked.failures[0].reason);
        expect(error.details).toMatch(/windows/i);
        expect(error.initFailure).toBeUndefined();
        expect(instance("i-spare")).toMatchObject({ keyPairName: undefined, rebootCount: 0 });
        expect(emulator.callCounts().AttachKeyPair ?? 0).toBe(0);
    });

    test("a per-instance attach failure comes back as ErrorResourceInitFailed with the partial binding", async () => {
        const urn = urnOf("partial");
        const faultId = emulator.faults.add({
            action: "AttachKeyPair",
            times: Infinity,
            instanceFailures: [{ instanceId: "i-fail2", code: "IncorrectInstanceStatus" }],
        });
        try {
            const checked = await recorded(
                host.check(urn, {}, withProvider({ keyPairName: "ops-2026", instanceIds: ["i-fail1", "i-fail2"], restart: FAST_RESTART })),
            );
            const error = await rejection(host.create(urn, checked.inputs));
            expect(error.details).toContain("i-fail2");

            const failure = error.initFailure;
            expect(failure).toBeDefined();
            expect(failure?.id).not.toBe("");
            expect(failure?.properties).toMatchObject({ keyPairName: "ops-2026", instanceIds: ["i-fail1"], [PROVIDER_KEY]: providerText });
            expect(failure?.reasons.join("\n")).toContain("i-fail2");
            expect(failure?.reasons.join("\n")).toContain("IncorrectInstanceStatus");
        } finally {
            emulator.faults.remove(faultId);
        }
        expect(instance("i-fail1").keyPairName).toBe("ops-2026");
        expect(instance("i-fail2").keyPairName).toBeUndefined();
    });
});

describe("passwordOnUnbind through the engine protocol", () => {
    const PASSWORD = `Pw-${randomUUID().slice(0, 8)}a1`;

    test("unbound instances get the password; it reaches no log line and no error", async () => {
        const urn = urnOf("pw");
        const stdoutBefore = host.stdout().length;
        const stderrBefore = host.stderr().length;
        const inputs = { keyPairName: "ops-2026", instanceIds: ["i-pw1", "i-pw2"], restart: FAST_RESTART, passwordOnUnbind: PASSWORD };
        // Not recorded in the transcript: the password is an input and a (secret) output by design.
        const checked = await host.check(urn, {}, withProvider(inputs));
        expect(checked.failures).toEqual([]);
        const created = await host.create(urn, checked.inputs);

        const news = await host.check(urn, checked.inputs, withProvider({ ...inputs, instanceIds: ["i-pw1"] }));
        const updated = await host.update(created.id, urn, created.properties, news.inputs, { oldInputs: checked.inputs });
        expect(instance("i-pw2")).toMatchObject({ keyPairName: undefined, password: PASSWORD, passwordEffective: true });
        expect(instance("i-pw1").password).toBeUndefined();
        expect(updated.properties.passwordResetRequiredInstanceIds).toEqual([]);

        await host.delete(created.id, urn, updated.properties, { oldInputs: news.inputs });
        expect(instance("i-pw1")).toMatchObject({ keyPairName: undefined, password: PASSWORD, passwordEffective: true });
        const output = await host.waitForOutput("stdout", /passwordOnUnbind was set on i-pw1/, { since: stdoutBefore });
        expect(output).not.toContain(PASSWORD);
        expect(host.stderr().slice(stderrBefore)).not.toContain(PASSWORD);
    });

    test("check refuses a weak password without repeating it", async () => {
        const weak = "weakpassword";
        const checked = await host.check(
            urnOf("pw-weak"),
            {},
            withProvider({ keyPairName: "ops-2026", instanceIds: ["i-pw1"], passwordOnUnbind: weak }),
        );
        expect(checked.failures).toEqual([{ property: "passwordOnUnbind", reason: expect.stringMatching(/at least three of/) as unknown }]);
        expect(JSON.stringify(checked.failures)).not.toContain(weak);
    });
});

describe("the credential canary", () => {
    test("the secret key appears in no response, no host output and not in the serialized provider", () => {
        expect(transcript.length).toBeGreaterThan(10);
        expect(JSON.stringify(transcript)).not.toContain(CANARY_SECRET);
        expect(host.stdout()).not.toContain(CANARY_SECRET);
        expect(host.stderr()).not.toContain(CANARY_SECRET);
        expect(providerText).not.toContain(CANARY_SECRET);
    });
});
