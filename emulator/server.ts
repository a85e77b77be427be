/**
 * The HTTP face of the emulator: read the request, authenticate it, apply injected faults,
 * dispatch to the action, and write the one ECS envelope — success `{RequestId, …}` or error
 * `{RequestId, HostId, Code, Message, Recommend}` (ecs-api.md §5.1, §10). `/_emulator/*` is the
 * control API (control.ts).
 */
import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { actions } from "./actions";
import { Authenticator } from "./auth";
import { type Clock, systemClock } from "./clock";
import { countByAction, handleControl, type ControlTarget } from "./control";
import { EcsError } from "./errors";
import { FaultInjector, type FaultOutcome } from "./faults";
import { DEFAULT_DURATIONS, type Durations, EcsModel } from "./model";
import { instanceIdsOf, Params } from "./params";
import { DEFAULT_ACCESS_KEY, type Seed, type SeedAccessKey } from "./seed";
import { parseUrlEncoded } from "./signature";

export interface EmulatorOptions {
    /** Default 0 (ephemeral). */
    port?: number;
    /** Default "127.0.0.1". */
    host?: string;
    seed?: Seed;
    /** Multiplies every transition duration; default 1 (e.g. 0.01 in tests). */
    timeScale?: number;
    /** Before timeScale; defaults 3000/5000/2000 ms. */
    durations?: Partial<Durations>;
    /** Added to every API response (benchmark realism); default 0. */
    latencyMs?: number;
    /**
     * Drives instance transitions and call timestamps; default Date.now. Signature timestamps, nonces
     * and throttling always use wall time, because the SDK signs with the wall clock: a test may
     * freeze or jump this clock without its requests going stale.
     */
    clock?: Clock;
    /** Default true. */
    verifySignatures?: boolean;
}

export interface ApiCall {
    action: string;
    /** Query and form parameters; a `Password` is recorded as "******". */
    params: Record<string, string>;
    /** HTTP status sent; 0 when the connection was dropped without a response. */
    status: number;
    code?: string;
    at: number;
    instanceIds: string[];
}

export interface Emulator {
    /** "127.0.0.1:PORT", what the SDK's `Config.endpoint` takes. */
    endpoint: string;
    /** "http://127.0.0.1:PORT". */
    url: string;
    model: EcsModel;
    faults: FaultInjector;
    /** Every API call received, in order (control endpoints excluded). */
    calls: ApiCall[];
    callCounts(): Record<string, number>;
    resetCalls(): void;
    close(): Promise<void>;
}

const API_VERSION = "2014-05-26";
const JSON_CONTENT_TYPE = "application/json;charset=utf-8";
/**
 * Parameters never stored or echoed in clear (D-MIA asks clients to send passwords over HTTPS; a V1
 * request carries its STS token as a parameter).
 */
const SECRET_PARAMS = new Set(["Password", "SecurityToken"]);

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
    const clock = options.clock ?? systemClock;
    const model = new EcsModel(
        { clock, timeScale: options.timeScale ?? 1, durations: { ...DEFAULT_DURATIONS, ...options.durations } },
        options.seed,
    );
    const faults = new FaultInjector(systemClock);
    let accessKeys: SeedAccessKey[] = [DEFAULT_ACCESS_KEY, ...(options.seed?.accessKeys ?? [])];
    const authenticator = new Authenticator(() => accessKeys, systemClock);
    const calls: ApiCall[] = [];
    const timers = new Set<NodeJS.Timeout>();
    const sleep = (ms: number) =>
        new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
                timers.delete(timer);
                resolve();
            }, ms);
            timers.add(timer);
        });

    const control: ControlTarget = {
        model,
        faults,
        calls,
        reset(seed: Seed) {
            model.reset(seed);
            if (seed.accessKeys) accessKeys = [DEFAULT_ACCESS_KEY, ...seed.accessKeys];
        },
    };

    async function handleApi(req: IncomingMessage, res: ServerResponse, rawQuery: string, body: Buffer): Promise<void> {
        const requestId = randomUUID().toUpperCase();
        const query = parseUrlEncoded(rawQuery);
        const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
        const form = isForm ? parseUrlEncoded(body.toString("utf8")) : [];
        const values: Record<string, string> = Object.fromEntries([...query, ...form]);
        const action = headerValue(req, "x-acs-action") ?? values.Action ?? "";
        const call: ApiCall = {
            action,
            params: redact(values),
            status: 0,
            at: clock.now(),
            instanceIds: instanceIdsOf(values),
        };
        calls.push(call);

        let outcome: FaultOutcome = {};
        let status = 200;
        let payload: Record<string, unknown>;
        try {
            if (options.verifySignatures ?? true) {
                authenticator.verify({ method: req.method ?? "POST", headers: req.headers, query, form, body });
            }
            const handler = findAction(action, headerValue(req, "x-acs-version") ?? values.Version);
            outcome = faults.next(action);
            if (outcome.delayMs) await sleep(outcome.delayMs);
            if (outcome.dropConnection) {
                // Lost before the service saw it: nothing changes, the client gets no answer at all.
                req.socket.destroy();
                return;
            }
            if (outcome.error) throw outcome.error;
            const result = handler({ model, params: new Params(values), instanceFailures: outcome.instanceFailures ?? [] });
            payload = { RequestId: requestId, ...result };
        } catch (error) {
            const ecsError = error instanceof EcsError ? error : internalError();
            status = ecsError.httpStatus;
            call.code = ecsError.code;
            payload = errorEnvelope(requestId, req.headers.host, ecsError);
        }
        if (options.latencyMs) await sleep(options.latencyMs);
        if (outcome.answerAfterMs) await sleep(outcome.answerAfterMs);
        call.status = status;
        const text = JSON.stringify(payload);
        res.writeHead(status, {
            "content-type": JSON_CONTENT_TYPE,
            "content-length": Buffer.byteLength(text),
            "x-acs-request-id": requestId,
        });
        if (outcome.resetMidResponse) {
            // Processed but the answer is cut: the client cannot tell whether the change happened.
            res.write(text.slice(0, Math.floor(text.length / 2)));
            setImmediate(() => req.socket.destroy());
            return;
        }
        res.end(text);
    }

    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
            else if (!res.headersSent) {
                chunks.length = 0;
                writeError(
                    res,
                    req.headers.host,
                    new EcsError("RequestEntityTooLarge", 413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`),
                );
                res.on("finish", () => req.socket.destroy());
            }
        });
        req.on("end", () => {
            if (size > MAX_BODY_BYTES) return;
            const body = Buffer.concat(chunks);
            const url = req.url ?? "/";
            const queryStart = url.indexOf("?");
            const path = queryStart < 0 ? url : url.slice(0, queryStart);
            const rawQuery = queryStart < 0 ? "" : url.slice(queryStart + 1);
            const handled = path.startsWith("/_emulator/")
                ? Promise.resolve(writeControl(res, handleControl(control, req.method ?? "GET", path, rawQuery, body)))
                : handleApi(req, res, rawQuery, body);
            handled.catch(() => {
                if (res.headersSent) res.destroy();
                else writeError(res, req.headers.host, internalError());
            });
        });
    });
    // Requests Node cannot parse (garbage, a bad Content-Length, headers or a query over Node's 16 KiB
    // header limit) never reach the handler; answer them with the ECS envelope too, not a bare status.
    server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
        if (!socket.writable || error.code === "ECONNRESET") {
            socket.destroy();
            return;
        }
        const ecsError =
            error.code === "HPE_HEADER_OVERFLOW"
                ? new EcsError("RequestHeaderFieldsTooLarge", 431, "The request line or headers are too large (the query string counts).")
                : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
                  ? new EcsError("RequestTimeout", 408, "The request was not received in time.")
                  : new EcsError("MalformedRequest", 400, "The request is not valid HTTP.");
        const requestId = randomUUID().toUpperCase();
        const text = JSON.stringify(errorEnvelope(requestId, undefined, ecsError));
        socket.end(
            `HTTP/1.1 ${ecsError.httpStatus} ${STATUS_CODES[ecsError.httpStatus]}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
                `x-acs-request-id: ${requestId}\r\nconnection: close\r\n\r\n${text}`,
        );
    });

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const endpoint = `${host}:${address.port}`;

    return {
        endpoint,
        url: `http://${endpoint}`,
        model,
        faults,
        calls,
        callCounts: () => countByAction(calls),
        resetCalls() {
            calls.length = 0;
        },
        close() {
            for (const timer of timers) clearTimeout(timer);
            timers.clear();
            return new Promise<void>((resolve, reject) => {
                server.close((error) => (error ? reject(error) : resolve()));
                server.closeAllConnections();
            });
        },
    };
}

/** Emulator choice (ECS publishes no limit): bounds memory when a client streams a runaway body. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const internalError = () => new EcsError("InternalError", 500, "The request processing has failed due to some unknown error.");

/** The ECS error body (ecs-api.md §5.1). */
function errorEnvelope(requestId: string, host: string | undefined, error: EcsError): Record<string, unknown> {
    return {
        RequestId: requestId,
        HostId: host ?? "ecs-emulator",
        Code: error.code,
        Message: error.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=Ecs&requestId=${requestId}`,
    };
}

function writeError(res: ServerResponse, host: string | undefined, error: EcsError): void {
    const requestId = randomUUID().toUpperCase();
    const text = JSON.stringify(errorEnvelope(requestId, host, error));
    res.writeHead(error.httpStatus, {
        "content-type": JSON_CONTENT_TYPE,
        "content-length": Buffer.byteLength(text),
        "x-acs-request-id": requestId,
    });
    res.end(text);
}

/** Unknown actions get POP's 404 `InvalidAction.NotFound`; a wrong Version is refused too. */
function findAction(action: string, version: string | undefined) {
    if (action === "")
        throw new EcsError(
            "MissingAction",
            400,
            'The input parameter "Action" that is mandatory for processing this request is not supplied.',
        );
    const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!handler)
        throw new EcsError("InvalidAction.NotFound", 404, `Specified api is not found, please check your url and method. (${action})`);
    if (version !== API_VERSION)
        throw new EcsError("InvalidVersion", 400, `Specified parameter Version is not valid. Expected ${API_VERSION}.`);
    return handler;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
}

function redact(values: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, SECRET_PARAMS.has(name) ? "******" : value]));
}

function writeControl(res: ServerResponse, reply: { status: number; body: unknown }): void {
    const text = JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, { "content-type": JSON_CONTENT_TYPE, "content-length": Buffer.byteLength(text) });
    res.end(text);
}
