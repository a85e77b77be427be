/**
 * One ECS API request, as separate steps: parse → record → authenticate → find the action →
 * faults before → dispatch → envelope → faults after (latency, a slow or cut answer, a gateway page).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator } from "../auth";
import type { ApiCall } from "../calls";
import type { Clock } from "../clock";
import { EcsError, errors, GATEWAY_ANSWERS } from "../errors";
import type { FaultInjector, FaultOutcome } from "../faults";
import type { EcsModel } from "../model";
import { instanceIdsOf, Params } from "../params";
import { type Param, parseUrlEncoded } from "../signature";
import { findAction } from "./dispatch";
import { errorEnvelope, JSON_CONTENT_TYPE, newRequestId } from "./envelope";
import type { Sleeper } from "./sleeper";

export interface ApiServices {
    model: EcsModel;
    faults: FaultInjector;
    authenticator: Authenticator;
    calls: ApiCall[];
    clock: Clock;
    sleeper: Sleeper;
    verifySignatures: boolean;
    latencyMs: number;
}

interface ApiRequest {
    requestId: string;
    action: string;
    version: string | undefined;
    values: Record<string, string>;
    query: Param[];
    form: Param[];
}

interface ApiAnswer {
    status: number;
    payload: Record<string, unknown>;
}

/**
 * Parameters never stored or echoed in clear (D-MIA asks clients to send passwords over HTTPS; a V1
 * request carries its STS token as a parameter).
 */
const SECRET_PARAMS = new Set(["Password", "SecurityToken"]);

export async function handleApi(
    services: ApiServices,
    req: IncomingMessage,
    res: ServerResponse,
    rawQuery: string,
    body: Buffer,
): Promise<void> {
    const request = parseRequest(req, rawQuery, body);
    const call = recordCall(services, request);
    let outcome: FaultOutcome = {};
    let answer: ApiAnswer;
    try {
        if (services.verifySignatures) {
            services.authenticator.verify({
                method: req.method ?? "POST",
                headers: req.headers,
                query: request.query,
                form: request.form,
                body,
            });
        }
        const handler = findAction(request.action, request.version);
        outcome = services.faults.next(request.action);
        if (outcome.delayMs) await services.sleeper.sleep(outcome.delayMs);
        if (outcome.dropConnection) {
            // Lost before the service saw it: nothing changes, the client gets no answer at all.
            req.socket.destroy();
            return;
        }
        if (outcome.error) throw outcome.error;
        if (outcome.gatewayStatus && !outcome.gatewayAfterProcessing) {
            // The gateway could not reach the service: nothing changes; respond() writes its page.
            answer = { status: outcome.gatewayStatus, payload: {} };
            return respond(req, res, request, call, answer, outcome);
        }
        const params = new Params(request.values);
        const result = handler({ model: services.model, params, instanceFailures: outcome.instanceFailures ?? [] });
        answer = { status: 200, payload: { RequestId: request.requestId, ...result } };
    } catch (error) {
        const ecsError = error instanceof EcsError ? error : errors.internalError();
        call.code = ecsError.code;
        answer = { status: ecsError.httpStatus, payload: errorEnvelope(request.requestId, req.headers.host, ecsError) };
    }
    if (services.latencyMs) await services.sleeper.sleep(services.latencyMs);
    if (outcome.answerAfterMs) await services.sleeper.sleep(outcome.answerAfterMs);
    respond(req, res, request, call, answer, outcome);
}

function parseRequest(req: IncomingMessage, rawQuery: string, body: Buffer): ApiRequest {
    const query = parseUrlEncoded(rawQuery);
    const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const form = isForm ? parseUrlEncoded(body.toString("utf8")) : [];
    const values: Record<string, string> = Object.fromEntries([...query, ...form]);
    return {
        requestId: newRequestId(),
        action: headerValue(req, "x-acs-action") ?? values.Action ?? "",
        version: headerValue(req, "x-acs-version") ?? values.Version,
        values,
        query,
        form,
    };
}

function recordCall(services: ApiServices, request: ApiRequest): ApiCall {
    const call: ApiCall = {
        action: request.action,
        params: redact(request.values),
        status: 0,
        at: services.clock.now(),
        instanceIds: instanceIdsOf(request.values),
    };
    services.calls.push(call);
    return call;
}

function respond(
    req: IncomingMessage,
    res: ServerResponse,
    request: ApiRequest,
    call: ApiCall,
    answer: ApiAnswer,
    outcome: FaultOutcome,
): void {
    if (outcome.gatewayStatus) {
        // A gateway in front of ECS answered instead (the work may or may not have been done): HTML, no envelope.
        call.status = outcome.gatewayStatus;
        call.code = undefined;
        const html = GATEWAY_ANSWERS[outcome.gatewayStatus];
        res.writeHead(outcome.gatewayStatus, { "content-type": "text/html", "content-length": Buffer.byteLength(html) });
        res.end(html);
        return;
    }
    call.status = answer.status;
    const text = JSON.stringify(answer.payload);
    res.writeHead(answer.status, {
        "content-type": JSON_CONTENT_TYPE,
        "content-length": Buffer.byteLength(text),
        "x-acs-request-id": request.requestId,
    });
    if (outcome.resetMidResponse) {
        // Processed but the answer is cut: the client cannot tell whether the change happened.
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setImmediate(() => req.socket.destroy());
        return;
    }
    res.end(text);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
}

function redact(values: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, SECRET_PARAMS.has(name) ? "******" : value]));
}
