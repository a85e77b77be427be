/**
 * Pure signature functions for the two schemes the official Node SDK speaks (ecs-api.md §6):
 * V3 `ACS3-HMAC-SHA256` (the default) and the RPC HMAC-SHA1 scheme (`SignatureVersion=1.0`, which
 * the SDK selects with `signatureAlgorithm: "v2"`). No I/O here; `auth.ts` applies them to requests.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const V3_ALGORITHM = "ACS3-HMAC-SHA256";

/** A query/form parameter as received, after URL decoding. Order is irrelevant: canonical forms sort. */
export type Param = readonly [name: string, value: string];

/**
 * RFC 3986 percent-encoding as both schemes define it: unreserved `A-Z a-z 0-9 - _ . ~` stay, the
 * rest is UTF-8 %XX. `encodeURIComponent` leaves `! ' ( ) *` alone, so those are escaped by hand.
 */
export function percentEncode(value: string): string {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Decodes a raw `a=b&c=d` string. The SDK builds its wire query with Node `querystring.stringify`,
 * which leaves `! ' ( ) * ~` unescaped while the signature escapes them — so a verifier must decode
 * and re-encode, never sign the raw string (ecs-api.md §1). `+` means space in form encoding.
 */
export function parseUrlEncoded(raw: string): Param[] {
    if (raw === "") return [];
    return raw
        .split("&")
        .filter((part) => part !== "")
        .map((part) => {
            const eq = part.indexOf("=");
            const name = eq < 0 ? part : part.slice(0, eq);
            const value = eq < 0 ? "" : part.slice(eq + 1);
            return [decodeComponent(name), decodeComponent(value)] as const;
        });
}

function decodeComponent(text: string): string {
    const spaced = text.replace(/\+/g, " ");
    try {
        return decodeURIComponent(spaced);
    } catch {
        // A lone '%' is not valid percent-encoding; keep the text so the signature check fails cleanly.
        return spaced;
    }
}

function sortedByName(params: readonly Param[]): Param[] {
    return [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function canonicalPairs(params: readonly Param[]): string {
    return sortedByName(params)
        .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
        .join("&");
}

export function sha256Hex(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

export interface V3CanonicalInput {
    method: string;
    /** Decoded query parameters. */
    query: readonly Param[];
    /** Lower-case header name → value, for exactly the headers listed in SignedHeaders. */
    signedHeaders: Readonly<Record<string, string>>;
    /** Hex SHA-256 of the body, as carried in `x-acs-content-sha256`. */
    payloadHash: string;
}

/** CanonicalRequest of ecs-api.md §6.1 steps 2–6 (CanonicalURI is always `/` for RPC). */
export function v3CanonicalRequest(input: V3CanonicalInput): string {
    const names = Object.keys(input.signedHeaders).sort();
    const canonicalHeaders = names.map((name) => `${name}:${input.signedHeaders[name].trim()}\n`).join("");
    return [input.method.toUpperCase(), "/", canonicalPairs(input.query), canonicalHeaders, names.join(";"), input.payloadHash].join("\n");
}

export function v3StringToSign(canonicalRequest: string): string {
    return `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

/** Hex HMAC-SHA256 keyed with the raw secret (no trailing `&`, unlike V1). */
export function v3Signature(accessKeySecret: string, canonicalRequest: string): string {
    return createHmac("sha256", accessKeySecret).update(v3StringToSign(canonicalRequest)).digest("hex");
}

export interface V3Authorization {
    algorithm: string;
    accessKeyId: string;
    signedHeaders: string[];
    signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; undefined if malformed. */
export function parseV3Authorization(header: string): V3Authorization | undefined {
    const space = header.indexOf(" ");
    if (space < 0) return undefined;
    const fields = new Map<string, string>();
    for (const part of header.slice(space + 1).split(",")) {
        const eq = part.indexOf("=");
        if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const accessKeyId = fields.get("Credential");
    const signedHeaders = fields.get("SignedHeaders");
    const signature = fields.get("Signature");
    if (!accessKeyId || !signedHeaders || !signature) return undefined;
    return {
        algorithm: header.slice(0, space),
        accessKeyId,
        signedHeaders: signedHeaders.split(";").map((h) => h.trim().toLowerCase()),
        signature,
    };
}

/** V1 StringToSign: `METHOD&%2F&percentEncode(canonicalized params)`, `Signature` excluded (§6.2). */
export function v1StringToSign(method: string, params: readonly Param[]): string {
    const canonical = canonicalPairs(params.filter(([name]) => name !== "Signature"));
    return `${method.toUpperCase()}&${percentEncode("/")}&${percentEncode(canonical)}`;
}

/** Base64 HMAC-SHA1 keyed with `secret + "&"`. */
export function v1Signature(accessKeySecret: string, stringToSign: string): string {
    return createHmac("sha1", `${accessKeySecret}&`).update(stringToSign).digest("base64");
}

/** Constant-time comparison so the emulator does not teach clients to rely on timing. */
export function signaturesEqual(expected: string, received: string): boolean {
    const a = Buffer.from(expected);
    const b = Buffer.from(received);
    return a.length === b.length && timingSafeEqual(a, b);
}
