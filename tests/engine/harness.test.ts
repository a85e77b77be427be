/**
 * Proves the engine harness itself against a throwaway provider (fixtures/echo-provider.js), so a
 * failure in the KeyPairAttachment engine test points at the provider, not at the harness.
 */
import * as path from "node:path";

import {
    createProgramDir,
    HostClient,
    PROVIDER_KEY,
    REPO_ROOT,
    rpcFailureOf,
    serializeProviderLikeDynamicResource,
    startDynamicProviderHost,
    UNKNOWN,
} from "./host";

const URN = "urn:pulumi:dev::proj::pulumi-nodejs:dynamic:Echo::echo";

let program: { dir: string; remove(): Promise<void> };
let host: HostClient;
let providerText: string;

beforeAll(async () => {
    program = await createProgramDir();
    const [serialized, started] = await Promise.all([
        serializeProviderLikeDynamicResource({ module: path.join(__dirname, "fixtures", "echo-provider.js"), exportName: "echoProvider" }),
        startDynamicProviderHost({ cwd: program.dir, env: envWithout("PULUMI_NODEJS_PROJECT") }),
    ]);
    providerText = serialized.text;
    host = started;
}, 30_000);

afterAll(async () => {
    await host?.close();
    await program?.remove();
});

function envWithout(name: string): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env[name];
    return env;
}

function withProvider(inputs: Record<string, unknown>): Record<string, unknown> {
    return { ...inputs, [PROVIDER_KEY]: providerText };
}

test("the serialized text is the closure serializer's module, exporting handler", () => {
    expect(providerText).toMatch(/^exports\.handler = __f0;/);
    expect(providerText).toContain("fixture create");
});

test("configure answers for the dynamic provider: no secrets, no preview", async () => {
    const result = await host.configure(
        { "fixture:greeting": "hello", "proj:greeting": "from proj", "project:greeting": "from project" },
        { secretKeys: ["fixture:greeting"] },
    );
    expect(result).toEqual({ acceptSecrets: false, supportsPreview: false, acceptResources: false, acceptOutputs: false });
});

test("check returns inputs with defaults and failures by property; the unknown sentinel passes", async () => {
    const good = await host.check(URN, {}, withProvider({ name: "alpha", zone: "a" }));
    expect(good.failures).toEqual([]);
    expect(good.inputs).toEqual({ name: "alpha", zone: "a", size: 1, [PROVIDER_KEY]: providerText });

    const bad = await host.check(URN, {}, withProvider({ name: "Alpha" }));
    expect(bad.failures).toEqual([{ property: "name", reason: 'name "Alpha" must be lower-case' }]);

    const unknown = await host.check(URN, {}, withProvider({ name: UNKNOWN }));
    expect(unknown.failures).toEqual([]);
    expect(unknown.inputs.name).toBe(UNKNOWN);
});

test("diff maps changes, replaces and deleteBeforeReplace", async () => {
    const olds = withProvider({ name: "alpha", zone: "a" });
    expect(await host.diff("fx-alpha", URN, olds, withProvider({ name: "alpha", zone: "a" }))).toEqual({
        changes: "DIFF_NONE",
        replaces: [],
        deleteBeforeReplace: false,
    });
    expect(await host.diff("fx-alpha", URN, olds, withProvider({ name: "beta", zone: "a" }))).toMatchObject({
        changes: "DIFF_SOME",
        replaces: [],
    });
    expect(await host.diff("fx-alpha", URN, olds, withProvider({ name: "alpha", zone: "b" }))).toEqual({
        changes: "DIFF_SOME",
        replaces: ["zone"],
        deleteBeforeReplace: true,
    });
});

test("create → read → update → delete round-trips, with configuration and console output", async () => {
    const created = await host.create(URN, withProvider({ name: "alpha", zone: "a", size: 1 }));
    expect(created.id).toBe("fx-alpha");
    // Configure ran once, when the host first deserialized the provider. `config.get` without a
    // namespace looks under the host's project: PULUMI_NODEJS_PROJECT, else the literal "project",
    // never the stack's project (proj) — so a provider must read namespaced keys.
    // `require` in a hook resolves from the host's cwd: the program's node_modules symlink.
    expect(created.properties).toEqual({
        name: "alpha",
        zone: "a",
        size: 1,
        greeting: "hello",
        projectlessGreeting: "from project",
        packageJsonPath: path.join(REPO_ROOT, "package.json"),
        [PROVIDER_KEY]: providerText,
    });
    await host.waitForOutput("stdout", "fixture create alpha\n");

    const read = await host.read(created.id, URN, created.properties, { inputs: withProvider({ name: "alpha", zone: "a", size: 1 }) });
    expect(read).toEqual({ id: "fx-alpha", properties: { ...created.properties, readCount: 1 } });

    const gone = await host.read("fx-gone", URN, created.properties);
    expect(gone.id).toBe("");

    const updated = await host.update(created.id, URN, created.properties, withProvider({ name: "beta", zone: "a", size: 1 }));
    expect(updated.properties).toEqual({ name: "beta", zone: "a", size: 1, previousName: "alpha", [PROVIDER_KEY]: providerText });
    await host.waitForOutput("stdout", "fixture update fx-alpha alpha -> beta\n");

    await host.delete(created.id, URN, updated.properties);
    await host.waitForOutput("stderr", "fixture delete fx-alpha\n");
});

test("a create error with id/properties/reasons comes back as ErrorResourceInitFailed details", async () => {
    const error = await rpcFailureOf(host.create(URN, withProvider({ name: "partial" })));
    expect(error.details).toBe("fixture: partial create");
    expect(error.initFailure).toEqual({
        id: "fx-partial",
        properties: { name: "partial", done: ["a"], [PROVIDER_KEY]: providerText },
        reasons: ["b failed"],
    });
});

test("a plain create error carries its message and no init-failure details", async () => {
    const error = await rpcFailureOf(host.create(URN, withProvider({ name: "boom" })));
    expect(error.details).toBe("fixture: create exploded");
    expect(error.initFailure).toBeUndefined();
});

test("an output holding undefined fails the RPC: the host cannot put undefined into a Struct", async () => {
    const error = await rpcFailureOf(host.create(URN, withProvider({ name: "undefined-output" })));
    expect(error.details).toBe("Unexpected struct type.");
});
