/**
 * The one ECS envelope on the wire: success `{RequestId, …}` or error
 * `{RequestId, HostId, Code, Message, Recommend}` (ecs-api.md §5.1, §10).
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { EcsError } from "../errors";

export const JSON_CONTENT_TYPE = "application/json;charset=utf-8";

export function newRequestId(): string {
    return randomUUID().toUpperCase();
}

/** The ECS error body (ecs-api.md §5.1). */
export function errorEnvelope(requestId: string, host: string | undefined, error: EcsError): Record<string, unknown> {
    return {
        RequestId: requestId,
        HostId: host ?? "ecs-emulator",
        Code: error.code,
        Message: error.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=Ecs&requestId=${requestId}`,
    };
}

export function writeBody(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": JSON_CONTENT_TYPE, "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
}

export function writeError(res: ServerResponse, host: string | undefined, error: EcsError): void {
    const requestId = newRequestId();
    writeBody(res, error.httpStatus, JSON.stringify(errorEnvelope(requestId, host, error)), { "x-acs-request-id": requestId });
}

/** A whole HTTP/1.1 error response as text, for a socket Node's parser gave up on. */
export function rawErrorResponse(error: EcsError): string {
    const requestId = newRequestId();
    const text = JSON.stringify(errorEnvelope(requestId, undefined, error));
    return (
        `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus]}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(text)}\r\nx-acs-request-id: ${requestId}\r\nconnection: close\r\n\r\n${text}`
    );
}
