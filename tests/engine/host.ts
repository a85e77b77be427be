/**
 * Engine-protocol harness (DESIGN §8 layer 3).
 *
 * Starts the real dynamic-provider host of `@pulumi/pulumi` (`cmd/dynamic-provider`) as a child
 * process and drives its `ResourceProvider` gRPC service with the same protobuf requests the Pulumi
 * engine sends. The provider travels the way `pulumi.dynamic.Resource` ships it: as the closure
 * serializer's text in the `__provider` property.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

import * as grpc from "@grpc/grpc-js";
import { Struct, JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PACKAGE_NAME = "pulumi-alicloud-keypair-attachment";

const PULUMI_SDK_DIR = path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi");
const DYNAMIC_PROVIDER_HOST = path.join(PULUMI_SDK_DIR, "cmd", "dynamic-provider", "index.js");

/** The engine's marker for a value not known until apply (`runtime/rpc.js` `unknownValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The engine's secret envelope signature (`runtime/rpc.js` `specialSecretSig`). */
const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SPECIAL_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The property under which the engine hands the serialized provider to every hook. */
export const PROVIDER_KEY = "__provider";

const HOST_START_TIMEOUT_MS = 15_000;
const RPC_DEADLINE_MS = 60_000;

export type PropertyMap = Record<string, unknown>;

export interface CheckFailure {
    property: string;
    reason: string;
}

export interface CheckResult {
    inputs: PropertyMap;
    failures: CheckFailure[];
}

export type DiffChanges = "DIFF_UNKNOWN" | "DIFF_NONE" | "DIFF_SOME";

export interface DiffResult {
    changes: DiffChanges;
    replaces: string[];
    deleteBeforeReplace: boolean;
}

export interface ConfigureResult {
    acceptSecrets: boolean;
    supportsPreview: boolean;
    acceptResources: boolean;
    acceptOutputs: boolean;
}

export interface ReadResult {
    id: string;
    properties: PropertyMap;
    inputs?: PropertyMap;
}

/** `pulumirpc.ErrorResourceInitFailed`: the resource exists, but its operation did not finish. */
export interface ResourceInitFailure {
    id: string;
    properties: PropertyMap;
    reasons: string[];
}

/** A failed RPC: the host's error message, and for create/update the init-failure details. */
export class HostRpcError extends Error {
    constructor(
        readonly method: string,
        readonly code: grpc.status,
        readonly details: string,
        readonly initFailure: ResourceInitFailure | undefined,
    ) {
        super(`${method}: ${details}`);
        this.name = "HostRpcError";
    }
}

/** The HostRpcError a call failed with; throws if it succeeded or failed some other way. */
export async function rpcFailureOf(call: Promise<unknown>): Promise<HostRpcError> {
    try {
        await call;
    } catch (error) {
        if (error instanceof HostRpcError) return error;
        throw error;
    }
    throw new Error("expected the RPC to fail, but it succeeded");
}

/** Options that the engine sends besides the main properties (newer engines always send them). */
export interface OldInputsOption {
    oldInputs?: PropertyMap;
}

export interface HostClient {
    /** The host's gRPC address, `127.0.0.1:PORT`. */
    readonly address: string;
    /**
     * ConfigureRequest as the engine sends it to a dynamic provider: the whole stack configuration
     * with namespaced keys (`alicloud:region`), in `args` (secrets in the secret envelope) and in
     * the legacy `variables` map.
     */
    configure(config: Record<string, string>, options?: { secretKeys?: string[] }): Promise<ConfigureResult>;
    check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<CheckResult>;
    diff(id: string, urn: string, olds: PropertyMap, news: PropertyMap, options?: OldInputsOption): Promise<DiffResult>;
    create(urn: string, props: PropertyMap, options?: { timeoutSeconds?: number }): Promise<{ id: string; properties: PropertyMap }>;
    read(id: string, urn: string, props: PropertyMap, options?: { inputs?: PropertyMap }): Promise<ReadResult>;
    update(
        id: string,
        urn: string,
        olds: PropertyMap,
        news: PropertyMap,
        options?: OldInputsOption & { timeoutSeconds?: number },
    ): Promise<{ properties: PropertyMap }>;
    delete(id: string, urn: string, props: PropertyMap, options?: OldInputsOption & { timeoutSeconds?: number }): Promise<void>;
    /** Everything the host wrote to stdout (after its port line) and stderr so far. */
    stdout(): string;
    stderr(): string;
    /**
     * Resolves with the stream's text from offset `since` (default 0) once `pattern` appears in it;
     * the output pipes race the gRPC response, so a test waits rather than reads.
     */
    waitForOutput(stream: "stdout" | "stderr", pattern: RegExp | string, options?: { since?: number; timeoutMs?: number }): Promise<string>;
    /** Kills the host and closes the channel. */
    close(): Promise<void>;
}

/**
 * Serializes a provider object exactly as `pulumi.dynamic.Resource` does (`dynamic/index.js`
 * `serializeFunctionMaybeSecret`): `serializeFunction(() => provider, { allowSecrets: true })`.
 *
 * It runs in a plain `node` child, as a Pulumi program would: the closure serializer inspects
 * `require.cache` to turn captured modules into `require("name")`, and under Jest the module
 * registry is Jest's own, which would serialize a different (larger) text.
 *
 * @param source the module that exports the provider (a path or a package specifier, resolved
 *   from `cwd`) and the export's name.
 */
export async function serializeProviderLikeDynamicResource(source: {
    module: string;
    exportName: string;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
}): Promise<{ text: string; containsSecrets: boolean }> {
    const script = `
        const sc = require(${JSON.stringify(path.join(PULUMI_SDK_DIR, "runtime", "closure", "serializeClosure"))});
        const { createRequire } = require("node:module");
        const requireFromCwd = createRequire(require("node:path").join(process.cwd(), "program.js"));
        const provider = requireFromCwd(process.argv[1])[process.argv[2]];
        if (provider === undefined) throw new Error("no export " + process.argv[2] + " in " + process.argv[1]);
        sc.serializeFunction(() => provider, { allowSecrets: true }).then((sf) => {
            process.stdout.write(JSON.stringify({ text: sf.text, containsSecrets: sf.containsSecrets }));
        });
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script, source.module, source.exportName], {
        cwd: source.cwd ?? REPO_ROOT,
        env: source.env ?? process.env,
        maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as { text: string; containsSecrets: boolean };
}

/**
 * Creates a throwaway Pulumi program directory whose `node_modules` holds this package, linked to
 * the repository root the way npm installs a `file:` dependency. The serialized provider loads the
 * package by name, resolved from the host's working directory, so the host must run here.
 */
export async function createProgramDir(): Promise<{ dir: string; remove(): Promise<void> }> {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "kpa-engine-"));
    await fs.promises.mkdir(path.join(dir, "node_modules"));
    await fs.promises.symlink(REPO_ROOT, path.join(dir, "node_modules", PACKAGE_NAME), "dir");
    await fs.promises.writeFile(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "engine-test-program", private: true, dependencies: { [PACKAGE_NAME]: `file:${REPO_ROOT}` } }, null, 2),
    );
    return { dir, remove: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

/**
 * Starts `cmd/dynamic-provider` like the engine's `pulumi-resource-pulumi-nodejs` plugin does:
 * `node …/cmd/dynamic-provider <engine-address>` in the program directory; the host prints its
 * gRPC port as the first stdout line.
 *
 * The host requires the engine address argument but never dials it for the ResourceProvider RPCs
 * (it only checks that the argument exists), so an unused address is passed.
 */
export async function startDynamicProviderHost(opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<HostClient> {
    const child = spawn(process.execPath, [DYNAMIC_PROVIDER_HOST, "127.0.0.1:1"], {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    const output = captureOutput(child);
    const port = await readPort(child, output);
    const address = `127.0.0.1:${port}`;
    const client = new ResourceProviderClient(address, grpc.credentials.createInsecure());
    return new GrpcHostClient(address, child, client, output);
}

interface CapturedOutput {
    stdout: string;
    stderr: string;
    listeners: Set<() => void>;
}

function captureOutput(child: ChildProcess): CapturedOutput {
    const output: CapturedOutput = { stdout: "", stderr: "", listeners: new Set() };
    const notify = (): void => output.listeners.forEach((listener) => listener());
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        output.stdout += chunk;
        notify();
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
        output.stderr += chunk;
        notify();
    });
    child.on("exit", notify);
    return output;
}

function readPort(child: ChildProcess, output: CapturedOutput): Promise<number> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(
            () => finish(new Error(`dynamic provider host printed no port in ${HOST_START_TIMEOUT_MS} ms`)),
            HOST_START_TIMEOUT_MS,
        );
        const check = (): void => {
            const match = /^(\d+)\r?\n/.exec(output.stdout);
            if (match) {
                output.stdout = output.stdout.slice(match[0].length);
                finish(undefined, Number(match[1]));
            } else if (child.exitCode !== null || child.signalCode !== null) {
                finish(
                    new Error(
                        `dynamic provider host exited (${child.exitCode ?? child.signalCode}) before printing its port:\n${output.stderr}`,
                    ),
                );
            }
        };
        const finish = (error: Error | undefined, port?: number): void => {
            clearTimeout(timer);
            output.listeners.delete(check);
            if (error) {
                child.kill("SIGKILL");
                reject(error);
            } else {
                resolve(port as number);
            }
        };
        output.listeners.add(check);
        check();
    });
}

/** Engine values are JSON-shaped; a Struct cannot hold `undefined`, and the engine never sends it. */
function toStruct(value: PropertyMap): Struct {
    return Struct.fromJavaScript(JSON.parse(JSON.stringify(value)) as Record<string, JavaScriptValue>);
}

function fromStruct(struct: Struct | undefined): PropertyMap {
    return struct?.toJavaScript() ?? {};
}

function secretEnvelope(value: string): Record<string, string> {
    return { [SPECIAL_SIG_KEY]: SPECIAL_SECRET_SIG, value };
}

/** The resource type and name the engine puts next to the URN (`urn:pulumi:stack::project::type::name`). */
function typeAndName(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    const typeChain = parts[2] ?? "";
    return { type: typeChain.split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

/** What every resource request carries: the URN, and the type and name the URN holds (and the id, once there is one). */
function identify<R extends { setUrn(v: string): unknown; setType(v: string): unknown; setName(v: string): unknown }>(
    request: R,
    urn: string,
    id?: string,
): R {
    const { type, name } = typeAndName(urn);
    request.setUrn(urn);
    request.setType(type);
    request.setName(name);
    if (id !== undefined) (request as unknown as { setId(v: string): unknown }).setId(id);
    return request;
}

function decodeInitFailure(error: grpc.ServiceError): ResourceInitFailure | undefined {
    const [detailsBin] = error.metadata?.get("grpc-status-details-bin") ?? [];
    if (detailsBin === undefined) {
        return undefined;
    }
    const status = Status.deserializeBinary(typeof detailsBin === "string" ? Buffer.from(detailsBin, "base64") : detailsBin);
    for (const detail of status.getDetailsList()) {
        const failure = detail.unpack(
            (bytes: Uint8Array) => providerProto.ErrorResourceInitFailed.deserializeBinary(bytes),
            "pulumirpc.ErrorResourceInitFailed",
        );
        if (failure) {
            return { id: failure.getId(), properties: fromStruct(failure.getProperties()), reasons: failure.getReasonsList() };
        }
    }
    return undefined;
}

const DIFF_CHANGES: Record<number, DiffChanges> = {
    [providerProto.DiffResponse.DiffChanges.DIFF_UNKNOWN]: "DIFF_UNKNOWN",
    [providerProto.DiffResponse.DiffChanges.DIFF_NONE]: "DIFF_NONE",
    [providerProto.DiffResponse.DiffChanges.DIFF_SOME]: "DIFF_SOME",
};

type UnaryMethod<Req, Res> = (
    request: Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

class GrpcHostClient implements HostClient {
    constructor(
        readonly address: string,
        private readonly child: ChildProcess,
        private readonly client: ResourceProviderClient,
        private readonly output: CapturedOutput,
    ) {}

    async configure(config: Record<string, string>, options: { secretKeys?: string[] } = {}): Promise<ConfigureResult> {
        const secretKeys = new Set(options.secretKeys ?? []);
        const args: PropertyMap = {};
        const request = new providerProto.ConfigureRequest();
        for (const [key, value] of Object.entries(config)) {
            args[key] = secretKeys.has(key) ? secretEnvelope(value) : value;
            request.getVariablesMap().set(key, value);
        }
        request.setArgs(toStruct(args));
        request.setAcceptsecrets(true);
        request.setAcceptresources(true);
        request.setSendsOldInputs(true);
        request.setSendsOldInputsToDelete(true);
        const response = await this.call("configure", this.client.configure.bind(this.client), request);
        return {
            acceptSecrets: response.getAcceptsecrets(),
            supportsPreview: response.getSupportspreview(),
            acceptResources: response.getAcceptresources(),
            acceptOutputs: response.getAcceptoutputs(),
        };
    }

    async check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<CheckResult> {
        const request = identify(new providerProto.CheckRequest(), urn);
        request.setOlds(toStruct(olds));
        request.setNews(toStruct(news));
        const response = await this.call("check", this.client.check.bind(this.client), request);
        return {
            inputs: fromStruct(response.getInputs()),
            failures: response.getFailuresList().map((failure) => ({ property: failure.getProperty(), reason: failure.getReason() })),
        };
    }

    async diff(id: string, urn: string, olds: PropertyMap, news: PropertyMap, options: OldInputsOption = {}): Promise<DiffResult> {
        const request = identify(new providerProto.DiffRequest(), urn, id);
        request.setOlds(toStruct(olds));
        request.setNews(toStruct(news));
        if (options.oldInputs) {
            request.setOldInputs(toStruct(options.oldInputs));
        }
        const response = await this.call("diff", this.client.diff.bind(this.client), request);
        return {
            changes: DIFF_CHANGES[response.getChanges()],
            replaces: response.getReplacesList(),
            deleteBeforeReplace: response.getDeletebeforereplace(),
        };
    }

    async create(
        urn: string,
        props: PropertyMap,
        options: { timeoutSeconds?: number } = {},
    ): Promise<{ id: string; properties: PropertyMap }> {
        const request = identify(new providerProto.CreateRequest(), urn);
        request.setProperties(toStruct(props));
        request.setTimeout(options.timeoutSeconds ?? 0);
        request.setPreview(false);
        const response = await this.call("create", this.client.create.bind(this.client), request);
        return { id: response.getId(), properties: fromStruct(response.getProperties()) };
    }

    async read(id: string, urn: string, props: PropertyMap, options: { inputs?: PropertyMap } = {}): Promise<ReadResult> {
        const request = identify(new providerProto.ReadRequest(), urn, id);
        request.setProperties(toStruct(props));
        if (options.inputs) {
            request.setInputs(toStruct(options.inputs));
        }
        const response = await this.call("read", this.client.read.bind(this.client), request);
        const inputs = response.getInputs();
        return {
            id: response.getId(),
            properties: fromStruct(response.getProperties()),
            ...(inputs ? { inputs: fromStruct(inputs) } : {}),
        };
    }

    async update(
        id: string,
        urn: string,
        olds: PropertyMap,
        news: PropertyMap,
        options: OldInputsOption & { timeoutSeconds?: number } = {},
    ): Promise<{ properties: PropertyMap }> {
        const request = identify(new providerProto.UpdateRequest(), urn, id);
        request.setOlds(toStruct(olds));
        request.setNews(toStruct(news));
        if (options.oldInputs) {
            request.setOldInputs(toStruct(options.oldInputs));
        }
        request.setTimeout(options.timeoutSeconds ?? 0);
        request.setPreview(false);
        const response = await this.call("update", this.client.update.bind(this.client), request);
        return { properties: fromStruct(response.getProperties()) };
    }

    async delete(id: string, urn: string, props: PropertyMap, options: OldInputsOption & { timeoutSeconds?: number } = {}): Promise<void> {
        const request = identify(new providerProto.DeleteRequest(), urn, id);
        request.setProperties(toStruct(props));
        if (options.oldInputs) {
            request.setOldInputs(toStruct(options.oldInputs));
        }
        request.setTimeout(options.timeoutSeconds ?? 0);
        await this.call("delete", this.client.delete.bind(this.client), request);
    }

    stdout(): string {
        return this.output.stdout;
    }

    stderr(): string {
        return this.output.stderr;
    }

    waitForOutput(
        stream: "stdout" | "stderr",
        pattern: RegExp | string,
        { since = 0, timeoutMs = 5_000 }: { since?: number; timeoutMs?: number } = {},
    ): Promise<string> {
        const text = (): string => this.output[stream].slice(since);
        const matches = (): boolean => (typeof pattern === "string" ? text().includes(pattern) : pattern.test(text()));
        return new Promise((resolve, reject) => {
            const check = (): void => {
                if (matches()) {
                    done();
                    resolve(text());
                }
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`host ${stream} did not show ${String(pattern)} within ${timeoutMs} ms; it holds:\n${text()}`));
            }, timeoutMs);
            const done = (): void => {
                clearTimeout(timer);
                this.output.listeners.delete(check);
            };
            this.output.listeners.add(check);
            check();
        });
    }

    async close(): Promise<void> {
        this.client.close();
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
            return;
        }
        const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
        this.child.kill("SIGTERM");
        await exited;
    }

    private call<Req, Res>(method: string, fn: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
        return new Promise((resolve, reject) => {
            fn(request, new grpc.Metadata(), { deadline: Date.now() + RPC_DEADLINE_MS }, (error, response) => {
                if (error) {
                    reject(new HostRpcError(method, error.code, error.details, decodeInitFailure(error)));
                } else {
                    resolve(response);
                }
            });
        });
    }
}
