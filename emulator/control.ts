/**
 * The control API under `/_emulator/`, for tests and demos in another process (JSON in, JSON out):
 *
 *   GET    state                      instances (passwords reported only as `passwordSet`), key pairs, faults, settings,
 *                                      Cloud Assistant invocations
 *   POST   reset                      body: Seed (also replaces the extra access keys when given)
 *   GET    calls | DELETE calls       the API call log and counts by action
 *   POST   faults | DELETE faults[/:id]  body: FaultRule (`times: null` or "Infinity" = forever)
 *   POST   throttle | DELETE throttle    body: { action?, ratePerSecond }
 *   POST   settings                   body: SeedSettings (initializationMs, initializingAnswer, consistencyDelayMs)
 *   POST   instances                  body: SeedInstance
 *   POST   instances/:id/attach|detach|start|stop|reboot|status|lock|agent|delete
 *            bodies: {keyPairName} | {} | {} | {force?} | {force?} | {status} | {locked} | {online}
 *   POST   keypairs                   body: {name, region?, publicKey?};  DELETE keypairs/:name[?region=]
 *            (a bound key pair is refused, as DeleteKeyPairs refuses it)
 */
import { EcsError } from "./errors";
import type { FaultInjector, FaultRule } from "./faults";
import type { EcsModel } from "./model";
import { parseSeed, type Seed, type SeedInstance } from "./seed";
import { type ApiCall, countByAction } from "./calls";
import { parseUrlEncoded } from "./signature";

export interface ControlTarget {
    model: EcsModel;
    faults: FaultInjector;
    calls: ApiCall[];
    reset(seed: Seed): void;
}

export interface ControlReply {
    status: number;
    body: unknown;
}

type Json = Record<string, unknown>;

export function handleControl(target: ControlTarget, method: string, path: string, rawQuery: string, body: Buffer): ControlReply {
    try {
        // Inside the try: a malformed escape (`%E0%A4%A`) is a 400, not an exception that kills the server.
        const segments = path.slice("/_emulator/".length).split("/").filter(Boolean).map(decodeURIComponent);
        const query = Object.fromEntries(parseUrlEncoded(rawQuery));
        const json = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Json) : {};
        const result = route(target, `${method.toUpperCase()} ${segments[0] ?? ""}`, segments.slice(1), json, query);
        return result === undefined
            ? { status: 404, body: { error: `No control endpoint ${method} ${path}` } }
            : { status: 200, body: result };
    } catch (error) {
        if (error instanceof EcsError) return { status: error.httpStatus, body: { Code: error.code, Message: error.message } };
        return { status: 400, body: { error: error instanceof Error ? error.message : String(error) } };
    }
}

function route(target: ControlTarget, route: string, rest: string[], json: Json, query: Record<string, string>): unknown {
    const { model, faults, calls } = target;
    switch (route) {
        case "GET state":
            return {
                instances: model.instances().map(({ password, ...instance }) => ({ ...instance, passwordSet: password !== undefined })),
                keyPairs: model.keyPairs(),
                faults: faults.list(),
                throttledCount: faults.throttledCount(),
                settings: model.settings(),
                invocations: model.cloudAssistant.list(),
            };
        case "POST reset":
            target.reset(parseSeed(json, "reset body"));
            return { ok: true };
        case "GET calls":
            return { calls, counts: countByAction(calls) };
        case "DELETE calls":
            calls.length = 0;
            return { ok: true };
        case "POST faults":
            return { id: faults.add(faultRuleOf(json)) };
        case "DELETE faults":
            if (rest[0] !== undefined) return { removed: faults.remove(rest[0]) };
            faults.clear();
            return { ok: true };
        case "POST throttle":
            faults.throttle({ action: json.action as string | undefined, ratePerSecond: Number(json.ratePerSecond) });
            return { ok: true };
        case "DELETE throttle":
            faults.clearThrottle();
            return { ok: true };
        case "POST settings":
            return model.updateSettings(parseSeed({ settings: json }, "settings body").settings ?? {});
        case "POST instances":
            return rest.length === 0
                ? model.addInstance(parseSeed({ instances: [json] }).instances?.[0] as SeedInstance)
                : instanceCommand(model, rest, json);
        case "DELETE instances":
            return { removed: model.deleteInstance(rest[0]) };
        case "POST keypairs":
            if (typeof json.name !== "string") throw new Error('Body needs a string "name"');
            model.addKeyPair(json.name, json.region as string | undefined, json.publicKey as string | undefined);
            return { ok: true };
        case "DELETE keypairs":
            return { removed: model.deleteKeyPair(rest[0], query.region) };
        default:
            return undefined;
    }
}

/** Out-of-band changes, as if made in the console; they obey the same rules as the API. */
function instanceCommand(model: EcsModel, [id, command]: string[], json: Json): unknown {
    const commands: Record<string, () => void> = {
        attach: () => model.attachKeyPair(id, String(json.keyPairName)),
        detach: () => model.detachKeyPair(id),
        start: () => model.startInstance(id),
        stop: () => model.stopInstance(id, json.force === true),
        reboot: () => model.rebootInstance(id, json.force === true),
        status: () => model.setStatus(id, json.status as Parameters<EcsModel["setStatus"]>[1]),
        lock: () => model.setLockedForSecurity(id, json.locked !== false),
        agent: () => model.setCloudAssistant(id, json.online !== false),
        delete: () => model.deleteInstance(id),
    };
    const run = commands[command];
    if (!run) return undefined;
    run();
    const { password, ...instance } = model.instance(id) ?? { id, deleted: true, password: undefined };
    return { ...instance, passwordSet: password !== undefined };
}

/** JSON has no Infinity: `times: null` or `"Infinity"` mean "forever". */
function faultRuleOf(json: Json): FaultRule {
    const forever = json.times === null || json.times === "Infinity";
    return { ...(json as FaultRule), ...(forever ? { times: Infinity } : {}) };
}
