/** Shared by the emulator tests: an SDK client for an emulator, and a hand-signed raw request. */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import Client from "@alicloud/ecs20140526";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { DEFAULT_ACCESS_KEY, type Emulator } from "../../emulator";
import { sha256Hex, v3CanonicalRequest, v3Signature } from "../../emulator/signature";

export const REGION = "cn-hangzhou";

export interface ClientOptions {
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    signatureAlgorithm?: "v2";
}

/** The unmodified official SDK, pointed at the emulator the way users configure it. */
export function ecsClient(emulator: Emulator, options: ClientOptions = {}): Client {
    return new Client(
        new $OpenApiUtil.Config({
            accessKeyId: options.accessKeyId ?? DEFAULT_ACCESS_KEY.accessKeyId,
            accessKeySecret: options.accessKeySecret ?? DEFAULT_ACCESS_KEY.accessKeySecret,
            securityToken: options.securityToken,
            signatureAlgorithm: options.signatureAlgorithm,
            endpoint: emulator.endpoint,
            protocol: "http",
            regionId: REGION,
        }),
    );
}

/** Resolves with the SDK error's code and HTTP status (fails the test if the call succeeds). */
export async function ecsErrorOf(call: Promise<unknown>): Promise<{ code: string; statusCode: number; data: Record<string, unknown> }> {
    try {
        await call;
    } catch (error) {
        const e = error as { code: string; statusCode: number; data: Record<string, unknown> };
        return { code: e.code, statusCode: e.statusCode, data: e.data };
    }
    throw new Error("expected the call to fail");
}

export interface RawV3Request {
    action: string;
    query: Record<string, string>;
    date?: string;
    nonce?: string;
    accessKeyId?: string;
    accessKeySecret?: string;
}

/** A V3 request signed by hand, so a test can reuse a nonce or backdate the signature. */
export function sendSignedV3(emulator: Emulator, raw: RawV3Request): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = {
        host: emulator.endpoint,
        "x-acs-action": raw.action,
        "x-acs-version": "2014-05-26",
        "x-acs-date": raw.date ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        "x-acs-signature-nonce": raw.nonce ?? randomBytes(16).toString("hex"),
        "x-acs-content-sha256": sha256Hex(""),
    };
    const canonical = v3CanonicalRequest({
        method: "POST",
        query: Object.entries(raw.query),
        signedHeaders: headers,
        payloadHash: headers["x-acs-content-sha256"],
    });
    const signature = v3Signature(raw.accessKeySecret ?? DEFAULT_ACCESS_KEY.accessKeySecret, canonical);
    headers.authorization = `ACS3-HMAC-SHA256 Credential=${raw.accessKeyId ?? DEFAULT_ACCESS_KEY.accessKeyId},SignedHeaders=${Object.keys(headers).sort().join(";")},Signature=${signature}`;
    return new Promise((resolve, reject) => {
        const req = request(`${emulator.url}/?${new URLSearchParams(raw.query).toString()}`, { method: "POST", headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
                resolve({
                    status: res.statusCode ?? 0,
                    body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
                }),
            );
        });
        req.on("error", reject);
        req.end();
    });
}

/** Plain JSON over HTTP, for the control endpoints; `T` is the shape the test expects back. */
export async function controlCall<T = Record<string, unknown>>(
    emulator: Emulator,
    method: string,
    path: string,
    body?: unknown,
): Promise<{ status: number; json: T }> {
    const response = await fetch(`${emulator.url}/_emulator/${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
}

/** The ECS code a model call throws (fails the test if it does not throw). */
export function thrownCode(run: () => unknown): string {
    try {
        run();
    } catch (error) {
        return (error as { code: string }).code;
    }
    throw new Error("expected the call to throw");
}
