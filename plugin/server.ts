/**
 * The gRPC ResourceProvider service of the plugin. `@pulumi/pulumi/provider`'s own server
 * (provider/server.js of the SDK) is not used: it answers Configure without passing the
 * configuration on, sends no detailed diff, does not pass ReadRequest.inputs (import) and has no
 * engine log with a URN. This module implements those methods on the SDK's generated protobuf
 * stubs and forwards each to KeyPairAttachmentPlugin; methods it leaves out answer UNIMPLEMENTED
 * (grpc-js), which the engine handles (Handshake, DiffConfig, Invoke, Call, Construct…).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as anyproto from "google-protobuf/google/protobuf/any_pb";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import * as pluginProto from "@pulumi/pulumi/proto/plugin_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import * as statusProto from "@pulumi/pulumi/proto/status_pb";
import { PartialBindingError } from "../provider/lifecycle";
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../provider/types";
import { EngineLog, KeyPairAttachmentPlugin, PluginDependencies, Severity } from "./provider";
import { PropertyDiffKind } from "./diff";
import { unwrapSecrets, withoutUndefined, wrapSecrets } from "./rpc";

export const RESOURCE_TOKEN = "alicloud-keypair:ecs:KeyPairAttachment";

/** The package root: dist/plugin/server.js → two levels up; plugin/server.ts (ts-jest) → one. */
export function packageRoot(): string {
    for (const candidate of [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..")]) {
        if (fs.existsSync(path.join(candidate, "schema.json")) && fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    }
    throw new Error(`schema.json not found above ${__dirname}: the plugin must run from its package (npm run build:plugin)`);
}

export function readSchema(): string {
    return fs.readFileSync(path.join(packageRoot(), "schema.json"), "utf8");
}

export function packageVersion(): string {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

const SEVERITY: Record<Severity, engineProto.LogSeverity> = {
    debug: engineProto.LogSeverity.DEBUG,
    info: engineProto.LogSeverity.INFO,
    warning: engineProto.LogSeverity.WARNING,
    error: engineProto.LogSeverity.ERROR,
};

/** The engine's Log service (messages attached to a URN, ephemeral status); stderr without an engine. */
export class EngineLogger {
    private readonly client?: engineRpc.EngineClient;
    private pending = new Set<Promise<void>>();

    constructor(engineAddress: string | undefined) {
        if (engineAddress) this.client = new engineRpc.EngineClient(engineAddress, grpc.credentials.createInsecure());
    }

    readonly log: EngineLog = (severity, message, urn, ephemeral = false) => {
        if (!this.client) {
            process.stderr.write(`${severity}${ephemeral ? " (status)" : ""}: ${message}\n`);
            return;
        }
        const request = new engineProto.LogRequest();
        request.setSeverity(SEVERITY[severity]);
        request.setMessage(message);
        request.setUrn(urn);
        request.setEphemeral(ephemeral);
        const sent = new Promise<void>((resolve) => this.client!.log(request, () => resolve()));
        this.pending.add(sent);
        void sent.then(() => this.pending.delete(sent));
    };

    /** Waits until the engine has every message sent so far (before an operation's answer). */
    async flush(): Promise<void> {
        await Promise.all([...this.pending]);
    }

    close(): void {
        this.client?.close();
    }
}

function plain(struct: structproto.Struct | undefined): Record<string, unknown> {
    return (unwrapSecrets(struct?.toJavaScript() ?? {}) as Record<string, unknown>) ?? {};
}

function toStruct(value: object): structproto.Struct {
    return structproto.Struct.fromJavaScript(withoutUndefined(wrapSecrets(value)) as Record<string, structproto.JavaScriptValue>);
}

const KIND: Record<PropertyDiffKind, providerProto.PropertyDiff.Kind> = {
    add: providerProto.PropertyDiff.Kind.ADD,
    delete: providerProto.PropertyDiff.Kind.DELETE,
    update: providerProto.PropertyDiff.Kind.UPDATE,
    "update-replace": providerProto.PropertyDiff.Kind.UPDATE_REPLACE,
};

/** A partial create/update: ErrorResourceInitFailed carries the id and the properties to record (as the SDK's server does). */
function errorResponse(error: unknown): grpc.ServiceError {
    const message = error instanceof Error ? error.message : String(error);
    const metadata = new grpc.Metadata();
    if (error instanceof PartialBindingError) {
        const status = new statusProto.Status();
        status.setCode(grpc.status.UNKNOWN);
        status.setMessage(message);
        const detail = new providerProto.ErrorResourceInitFailed();
        detail.setId(error.id);
        detail.setProperties(toStruct(error.properties));
        detail.setReasonsList(error.reasons);
        const any = new anyproto.Any();
        any.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
        status.addDetails(any);
        metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
    }
    return Object.assign(new Error(message), { code: grpc.status.UNKNOWN, details: message, metadata });
}

type Handler<Req, Res> = (request: Req) => Res | Promise<Res>;

function unary<Req, Res>(logger: EngineLogger, handler: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
        Promise.resolve()
            .then(() => handler(call.request))
            .then(
                async (response) => {
                    await logger.flush();
                    callback(null, response);
                },
                async (error: unknown) => {
                    await logger.flush();
                    const response = errorResponse(error);
                    callback(response, null, response.metadata);
                },
            );
    };
}

export function providerService(
    plugin: KeyPairAttachmentPlugin,
    logger: EngineLogger,
    onCancel: () => void = () => {},
): providerRpc.IResourceProviderServer {
    const ok = <Req, Res>(handler: Handler<Req, Res>) => unary(logger, handler);
    const checkType = (urn: string) => {
        const type = urn.split("::")[2]?.split("$").pop();
        if (type !== RESOURCE_TOKEN) throw new Error(`Unknown resource type ${type ?? urn}: this provider has only ${RESOURCE_TOKEN}.`);
    };
    // Only the methods this plugin implements; grpc-js answers UNIMPLEMENTED for the rest.
    const service: Partial<providerRpc.IResourceProviderServer> = {
        getPluginInfo: ok(() => new pluginProto.PluginInfo().setVersion(packageVersion())),
        getSchema: ok((request: providerProto.GetSchemaRequest) => {
            if (request.getVersion() !== 0) throw new Error(`unsupported schema version ${request.getVersion()}`);
            return new providerProto.GetSchemaResponse().setSchema(readSchema());
        }),
        attach: ok(() => new emptyproto.Empty()),
        cancel: ok(() => {
            plugin.cancel();
            onCancel();
            return new emptyproto.Empty();
        }),
        checkConfig: ok((request: providerProto.CheckRequest) => new providerProto.CheckResponse().setInputs(request.getNews())),
        configure: ok((request: providerProto.ConfigureRequest) => {
            const variables: Record<string, string> = {};
            request.getVariablesMap().forEach((value, key) => (variables[key] = value));
            plugin.configure(variables, plain(request.getArgs()));
            return new providerProto.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(false).setAcceptresources(false);
        }),
        check: ok(async (request: providerProto.CheckRequest) => {
            checkType(request.getUrn());
            const result = await plugin.check(
                request.getUrn(),
                plain(request.getOlds()) as unknown as KeyPairAttachmentInputs,
                plain(request.getNews()) as unknown as KeyPairAttachmentInputs,
            );
            const response = new providerProto.CheckResponse().setInputs(toStruct(result.inputs));
            response.setFailuresList(
                result.failures.map((f) => new providerProto.CheckFailure().setProperty(f.property).setReason(f.reason)),
            );
            return response;
        }),
        diff: ok(async (request: providerProto.DiffRequest) => {
            const result = await plugin.diff(
                request.getId(),
                request.getUrn(),
                plain(request.getOlds()) as unknown as KeyPairAttachmentOutputs,
                plain(request.getNews()) as unknown as KeyPairAttachmentInputs,
                plain(request.getOldInputs()),
            );
            const response = new providerProto.DiffResponse()
                .setChanges(
                    result.changes ? providerProto.DiffResponse.DiffChanges.DIFF_SOME : providerProto.DiffResponse.DiffChanges.DIFF_NONE,
                )
                .setReplacesList(result.replaces)
                .setDeletebeforereplace(result.deleteBeforeReplace)
                .setDiffsList([...new Set(result.detailedDiff.map((c) => c.path.replace(/\[.*$/, "")))])
                .setHasdetaileddiff(true);
            for (const change of result.detailedDiff) {
                response
                    .getDetaileddiffMap()
                    .set(change.path, new providerProto.PropertyDiff().setKind(KIND[change.kind]).setInputdiff(change.inputDiff));
            }
            return response;
        }),
        create: ok(async (request: providerProto.CreateRequest) => {
            checkType(request.getUrn());
            const inputs = plain(request.getProperties()) as unknown as KeyPairAttachmentInputs;
            if (request.getPreview()) return new providerProto.CreateResponse().setId("").setProperties(toStruct(inputs));
            const result = await plugin.create(request.getUrn(), inputs);
            return new providerProto.CreateResponse().setId(result.id).setProperties(toStruct(result.outs));
        }),
        read: ok(async (request: providerProto.ReadRequest) => {
            const result = await plugin.read(request.getId(), request.getUrn(), plain(request.getProperties()), plain(request.getInputs()));
            const response = new providerProto.ReadResponse().setId(result.id).setProperties(toStruct(result.props));
            if (result.inputs && result.id) response.setInputs(toStruct(result.inputs));
            return response;
        }),
        update: ok(async (request: providerProto.UpdateRequest) => {
            const olds = plain(request.getOlds()) as unknown as KeyPairAttachmentOutputs;
            const news = plain(request.getNews()) as unknown as KeyPairAttachmentInputs;
            if (request.getPreview()) return new providerProto.UpdateResponse().setProperties(toStruct({ ...olds, ...news }));
            const result = await plugin.update(request.getId(), request.getUrn(), olds, news);
            return new providerProto.UpdateResponse().setProperties(toStruct(result.outs));
        }),
        delete: ok(async (request: providerProto.DeleteRequest) => {
            await plugin.delete(request.getId(), request.getUrn(), plain(request.getProperties()) as unknown as KeyPairAttachmentOutputs);
            return new emptyproto.Empty();
        }),
    };
    return service as providerRpc.IResourceProviderServer;
}

/**
 * Serves the plugin the way the engine starts one: `pulumi-resource-alicloud-keypair <engine address>`;
 * prints the port on stdout. Returns the server (tests stop it).
 */
export async function serve(
    args: string[],
    deps: Partial<PluginDependencies> = {},
): Promise<{ server: grpc.Server; port: number; logger: EngineLogger }> {
    const engineAddress = args.find((a) => !a.startsWith("-"));
    const logger = new EngineLogger(engineAddress);
    const plugin = new KeyPairAttachmentPlugin({ ...deps, log: deps.log ?? logger.log });
    const server = new grpc.Server({
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
        "grpc.max_send_message_length": 400 * 1024 * 1024,
    });
    server.addService(providerRpc.ResourceProviderService, providerService(plugin, logger));
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
            error ? reject(error) : resolve(bound),
        ),
    );
    return { server, port, logger };
}
