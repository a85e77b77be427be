/** The plugin's own pieces, without the engine: import ids, the detailed diff, config, secrets, warnings, the schema, Cancel. */
import * as fs from "node:fs";
import * as path from "node:path";

import { resolveSettings } from "../../provider/config";
import type { BatchResult, EcsGateway } from "../../provider/ecs/gateway";
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../../provider/types";
import { pluginConfigSource } from "../../plugin/config";
import { changeSummary, detailedDiff, programChanged } from "../../plugin/diff";
import { parseImportId } from "../../plugin/import";
import { Cancellation, OperationGateway } from "../../plugin/operation-gateway";
import { SECRET_SIG, SECRET_SIG_KEY, UNKNOWN_VALUE, unwrapSecrets, wrapSecrets } from "../../plugin/rpc";
import { operationWarnings } from "../../plugin/warnings";

const ROOT = path.resolve(__dirname, "..", "..");

function outputs(partial: Partial<KeyPairAttachmentOutputs>): KeyPairAttachmentOutputs {
    return {
        keyPairName: "deploy",
        instanceIds: [],
        region: "cn-hangzhou",
        restartedInstanceIds: [],
        pendingRestartInstanceIds: [],
        passwordResetRequiredInstanceIds: [],
        passwordResetFailures: {},
        replacedKeyPairs: {},
        ...partial,
    };
}

describe("import ids", () => {
    it("parses <region>/<keyPairName> and <region>/<keyPairName>/<ids>", () => {
        expect(parseImportId("cn-hangzhou/deploy")).toEqual({ region: "cn-hangzhou", keyPairName: "deploy" });
        expect(parseImportId("cn-hangzhou/deploy/i-1, i-2,i-1")).toEqual({
            region: "cn-hangzhou",
            keyPairName: "deploy",
            instanceIds: ["i-1", "i-2"],
        });
    });

    it.each(["deploy", "cn-hangzhou/", "/deploy", "a/b/c/d", "cn-hangzhou/deploy/i-1,,i-2", "cn-hangzhou/deploy/"])(
        "refuses %p with the format",
        (id) => {
            expect(() => parseImportId(id)).toThrow(/<region>\/<keyPairName>|empty instance id/);
        },
    );
});

describe("detailed diff", () => {
    const olds = outputs({ instanceIds: ["i-a", "i-b", "i-c"] });
    const news = (partial: Partial<KeyPairAttachmentInputs>): KeyPairAttachmentInputs => ({
        keyPairName: "deploy",
        instanceIds: ["i-a", "i-b", "i-c"],
        ...partial,
    });

    it("is a set: a reordering is no entry", () => {
        expect(detailedDiff(olds, news({ instanceIds: ["i-c", "i-a", "i-b"] }), [])).toEqual([]);
    });

    it("lists each added id against the new inputs and each removed id against the recorded outputs", () => {
        expect(detailedDiff(olds, news({ instanceIds: ["i-c", "i-a", "i-b", "i-d"] }), [])).toEqual([
            { path: "instanceIds[3]", kind: "add", inputDiff: true },
        ]);
        expect(detailedDiff(olds, news({ instanceIds: ["i-a", "i-c"] }), [])).toEqual([
            { path: "instanceIds[1]", kind: "delete", inputDiff: false },
        ]);
    });

    it("merges an id added at the index another was removed from into one update entry", () => {
        expect(detailedDiff(olds, news({ instanceIds: ["i-d", "i-b", "i-c"] }), [])).toEqual([
            { path: "instanceIds[0]", kind: "update", inputDiff: false },
        ]);
    });

    it("reports key, restart (defaults applied), password, region replacement and unknowns", () => {
        expect(detailedDiff(olds, news({ keyPairName: "other" }), [])).toEqual([{ path: "keyPairName", kind: "update", inputDiff: true }]);
        expect(detailedDiff(outputs({ ...olds, restart: { enabled: true } }), news({}), [])).toEqual([]);
        expect(detailedDiff(olds, news({ restart: { batchSize: 2 } }), [])).toEqual([{ path: "restart", kind: "update", inputDiff: true }]);
        expect(detailedDiff(olds, news({ passwordOnUnbind: "Secret-2026!" }), [])).toEqual([
            { path: "passwordOnUnbind", kind: "update", inputDiff: true },
        ]);
        expect(detailedDiff(olds, news({ region: "cn-beijing" }), ["region"])).toEqual([
            { path: "region", kind: "update-replace", inputDiff: true },
        ]);
        expect(detailedDiff(olds, news({ instanceIds: UNKNOWN_VALUE as unknown as string[] }), [])).toEqual([
            { path: "instanceIds", kind: "update", inputDiff: true },
        ]);
    });

    it("says what is added, removed and restarted", () => {
        expect(changeSummary(olds, news({ instanceIds: ["i-a", "i-d"], restart: { batchSize: 1 } }))).toBe(
            "instanceIds: adds i-d; removes i-b, i-c. This update restarts the instances among these that are Running: i-d (newly bound) — in waves of 1.",
        );
        expect(changeSummary(olds, news({ keyPairName: "other", restart: { force: true } }))).toBe(
            'This update restarts the instances among these that are Running: i-a, i-b, i-c (key pair changes to "other", forced) — all at once.',
        );
        expect(changeSummary(olds, news({ instanceIds: ["i-a"], restart: { enabled: false } }))).toBe(
            "instanceIds: adds none; removes i-b, i-c. This update restarts no instance.",
        );
    });

    it("tells a program change from the refresh's diff (recorded inputs as the new ones)", () => {
        const recorded = news({ instanceIds: ["i-b", "i-a"] });
        expect(programChanged(recorded, news({ instanceIds: ["i-a", "i-b"] }))).toBe(false);
        expect(programChanged(recorded, news({ instanceIds: ["i-a"] }))).toBe(true);
        expect(programChanged(recorded, news({ instanceIds: ["i-a", "i-b"], passwordOnUnbind: "x" }))).toBe(true);
    });
});

describe("provider configuration", () => {
    it("answers the alicloud:* keys of provider/config.ts with this package's keys, then the same environment fallbacks", () => {
        const source = pluginConfigSource({
            "alicloud-keypair:region": "cn-shanghai",
            "alicloud-keypair:accessKey": "id",
            "alicloud-keypair:secretKey": "secret",
            "alicloud-keypair:endpoints": '[{"ecs":"http://127.0.0.1:9"}]',
        });
        const settings = resolveSettings(source, {});
        expect(settings.defaultRegion).toBe("cn-shanghai");
        expect(settings.credentials).toMatchObject({ kind: "static", accessKeyId: "id", accessKeySecret: "secret" });
        expect(settings.endpoint).toEqual({ protocol: "http", host: "127.0.0.1:9" });

        const fromEnv = resolveSettings(pluginConfigSource({}), {
            ALIBABA_CLOUD_REGION_ID: "cn-beijing",
            ALICLOUD_ACCESS_KEY: "e",
            ALICLOUD_SECRET_KEY: "s",
        });
        expect(fromEnv.defaultRegion).toBe("cn-beijing");
        expect(fromEnv.credentials).toMatchObject({ kind: "static", accessKeyId: "e", origin: "ALICLOUD_ACCESS_KEY" });
    });

    it("takes explicit provider arguments (structured endpoints included) when no variable is set", () => {
        const source = pluginConfigSource({}, { region: "cn-hangzhou", profile: "ops", endpoints: [{ ecs: "ecs.example.com" }] });
        expect(resolveSettings(source, {})).toMatchObject({
            defaultRegion: "cn-hangzhou",
            credentials: { kind: "profile", profile: "ops" },
            endpoint: { host: "ecs.example.com" },
        });
    });
});

describe("secrets on the wire", () => {
    it("unwraps secrets deeply and always wraps passwordOnUnbind", () => {
        const wire = {
            keyPairName: "k",
            passwordOnUnbind: { [SECRET_SIG_KEY]: SECRET_SIG, value: "pw" },
            restart: { [SECRET_SIG_KEY]: SECRET_SIG, value: { force: true } },
        };
        expect(unwrapSecrets(wire)).toEqual({ keyPairName: "k", passwordOnUnbind: "pw", restart: { force: true } });
        expect(wrapSecrets({ keyPairName: "k", passwordOnUnbind: "pw" })).toEqual({
            keyPairName: "k",
            passwordOnUnbind: { [SECRET_SIG_KEY]: SECRET_SIG, value: "pw" },
        });
        expect(wrapSecrets({ keyPairName: "k" })).toEqual({ keyPairName: "k" });
    });
});

describe("warnings once, from the operation that caused them", () => {
    it("warns about what is new in the outputs only", () => {
        const after = outputs({
            instanceIds: ["i-a", "i-b"],
            replacedKeyPairs: { "i-a": "old" },
            pendingRestartInstanceIds: ["i-b"],
            restartOwedInstanceIds: ["i-b"],
        });
        const first = operationWarnings(undefined, after);
        expect(first).toHaveLength(3);
        expect(first.join("\n")).toMatch(/replaced another key pair on i-a \(was "old"\)/);
        expect(first.join("\n")).toMatch(/i-b still needs a restart/);
        expect(operationWarnings(after, after)).toEqual([]);
        expect(operationWarnings(after, { ...after, replacedKeyPairs: { "i-a": "old", "i-c": "x" } })).toEqual([
            expect.stringMatching(/on i-c \(was "x"\)/),
        ]);
    });
});

describe("schema.json", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "schema.json"), "utf8")) as {
        version: string;
        config: { variables: Record<string, { secret?: boolean }> };
        resources: Record<
            string,
            { inputProperties: Record<string, { secret?: boolean }>; properties: Record<string, { secret?: boolean }>; required: string[] }
        >;
    };
    const resource = schema.resources["alicloud-keypair:ecs:KeyPairAttachment"];
    // Compile-time complete: adding a field to the types without listing it here does not compile.
    const INPUTS = {
        keyPairName: true,
        instanceIds: true,
        region: true,
        restart: true,
        passwordOnUnbind: true,
        activation: true,
        online: true,
        waitForReadySeconds: true,
    } satisfies Record<keyof KeyPairAttachmentInputs, true>;
    const OUTPUTS = {
        keyPairName: true,
        instanceIds: true,
        region: true,
        restart: true,
        passwordOnUnbind: true,
        activation: true,
        online: true,
        onlineActivatedInstanceIds: true,
        waitForReadySeconds: true,
        restartedInstanceIds: true,
        pendingRestartInstanceIds: true,
        passwordResetRequiredInstanceIds: true,
        passwordResetFailures: true,
        replacedKeyPairs: true,
        restartOwedInstanceIds: true,
        leftoverKeyPairs: true,
    } satisfies Record<keyof KeyPairAttachmentOutputs, true>;

    it("is versioned with package.json", () => {
        expect(schema.version).toBe((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version);
    });

    it("declares the inputs and outputs of provider/types.ts, passwordOnUnbind and the credentials secret", () => {
        expect(Object.keys(resource.inputProperties).sort()).toEqual(Object.keys(INPUTS).sort());
        expect(Object.keys(resource.properties).sort()).toEqual(Object.keys(OUTPUTS).sort());
        expect(resource.inputProperties.passwordOnUnbind.secret).toBe(true);
        expect(resource.properties.passwordOnUnbind.secret).toBe(true);
        expect(Object.keys(schema.config.variables).sort()).toEqual([
            "accessKey",
            "endpoints",
            "profile",
            "region",
            "secretKey",
            "securityToken",
        ]);
        expect([schema.config.variables.secretKey.secret, schema.config.variables.securityToken.secret]).toEqual([true, true]);
    });
});

describe("Cancel", () => {
    const ok = (ids: readonly string[]): Promise<BatchResult> => Promise.resolve({ succeeded: [...ids], failed: [] });
    const rebooted: string[][] = [];
    const inner: EcsGateway = {
        describeInstances: () => Promise.resolve(new Map()),
        keyPairExists: () => Promise.resolve(true),
        attachKeyPair: (_r, _k, ids) => ok(ids),
        detachKeyPair: (_r, _k, ids) => ok(ids),
        setInstancePasswords: (_r, ids) => ok(ids),
        tagInstances: () => Promise.resolve(),
        untagInstances: () => Promise.resolve(),
        rebootInstances: (_r, ids) => {
            rebooted.push([...ids]);
            return ok(ids);
        },
        cloudAssistant: {
            agentStatus: () => Promise.reject(new Error("not used")),
            publicKey: () => Promise.reject(new Error("not used")),
            runCommand: () => Promise.reject(new Error("not used")),
            invocationResults: () => Promise.reject(new Error("not used")),
        },
    };

    it("lets no reboot through after the Cancel, and says why per instance", async () => {
        const cancellation = new Cancellation();
        const progress: string[] = [];
        const gateway = new OperationGateway(inner, cancellation, (m) => progress.push(m));
        await gateway.rebootInstances("cn-hangzhou", ["i-1"], false);
        cancellation.cancel();
        const refused = await gateway.rebootInstances("cn-hangzhou", ["i-2", "i-3"], false);
        expect(rebooted).toEqual([["i-1"]]);
        expect(refused.failed.map((f) => [f.instanceId, f.code])).toEqual([
            ["i-2", "Cancelled"],
            ["i-3", "Cancelled"],
        ]);
        expect(progress).toEqual(["restart wave 1: restarting i-1, then waiting until they are Running"]);
    });
});
