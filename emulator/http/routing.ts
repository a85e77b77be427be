/**
 * Routing: read the body (bounded), then send `/_emulator/*` to the control API and everything else
 * to the ECS API. Requests Node cannot parse get the ECS envelope too, not a bare status.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { errors } from "../errors";
import { rawErrorResponse, writeBody, writeError } from "./envelope";

/** Emulator choice (ECS publishes no limit): bounds memory when a client streams a runaway body. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface Routes {
    api(req: IncomingMessage, res: ServerResponse, rawQuery: string, body: Buffer): Promise<void>;
    control(method: string, path: string, rawQuery: string, body: Buffer): { status: number; body: unknown };
}

export function requestListener(routes: Routes): RequestListener {
    return (req, res) => {
        void readBody(req, res).then((body) => {
            if (body === undefined) return;
            const url = req.url ?? "/";
            const queryStart = url.indexOf("?");
            const path = queryStart < 0 ? url : url.slice(0, queryStart);
            const rawQuery = queryStart < 0 ? "" : url.slice(queryStart + 1);
            const handled = path.startsWith("/_emulator/")
                ? Promise.resolve(writeControl(res, routes.control(req.method ?? "GET", path, rawQuery, body)))
                : routes.api(req, res, rawQuery, body);
            handled.catch(() => {
                if (res.headersSent) res.destroy();
                else writeError(res, req.headers.host, errors.internalError());
            });
        });
    };
}

/** The whole body, or undefined after answering 413 for one over MAX_BODY_BYTES. */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
            else if (!res.headersSent) {
                chunks.length = 0;
                writeError(res, req.headers.host, errors.requestTooLarge(MAX_BODY_BYTES));
                // end(), not destroy(): on Node 24 a destroyed socket resets the connection before the
                // client has read the 413, so the client would see ECONNRESET instead of the answer.
                res.on("finish", () => req.socket.end());
            }
        });
        req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    });
}

function writeControl(res: ServerResponse, reply: { status: number; body: unknown }): void {
    writeBody(res, reply.status, JSON.stringify(reply.body ?? {}));
}

/** For `server.on("clientError")`: garbage, a bad Content-Length, headers or a query over 16 KiB. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable || error.code === "ECONNRESET") {
        socket.destroy();
        return;
    }
    const ecsError =
        error.code === "HPE_HEADER_OVERFLOW"
            ? errors.headersTooLarge()
            : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
              ? errors.requestTimeout()
              : errors.malformedRequest();
    socket.end(rawErrorResponse(ecsError));
}
