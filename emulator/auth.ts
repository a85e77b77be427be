/**
 * Request authentication: which signature scheme a request uses, whose key signed it, whether the
 * signature, timestamp, nonce and STS token hold (ecs-api.md §6). Throws `EcsError` with the POP
 * gateway codes of §5.2.
 */
import type { Clock } from "./clock";
import { errors } from "./errors";
import type { SeedAccessKey } from "./seed";
import {
    type Param,
    parseV3Authorization,
    sha256Hex,
    signaturesEqual,
    V3_ALGORITHM,
    v1Signature,
    v1StringToSign,
    v3CanonicalRequest,
    v3Signature,
} from "./signature";

export interface SignedRequest {
    method: string;
    /** Lower-case names, as Node delivers them. */
    headers: Readonly<Record<string, string | string[] | undefined>>;
    /** Decoded query parameters. */
    query: readonly Param[];
    /** Decoded form-body parameters (V1 signs them together with the query). */
    form: readonly Param[];
    body: Buffer;
}

/** D-SIGV3 / D-COMERR: timestamps more than 15 minutes off are refused; nonces are kept as long. */
const TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;
/** Bounds memory under a flood of requests; far above what 15 minutes of tests produce. */
const MAX_REMEMBERED_NONCES = 100_000;

/** ecs-api.md §6.1 server recipe: a V3 signature must cover at least these headers. */
const REQUIRED_SIGNED_HEADERS = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];

const incomplete = errors.incompleteSignature;
const mismatch = errors.signatureMismatch;

export class Authenticator {
    private readonly nonces = new Map<string, number>();

    constructor(
        private readonly accessKeys: () => readonly SeedAccessKey[],
        private readonly clock: Clock,
    ) {}

    /** Verifies the request or throws; returns the access key id that signed it. */
    verify(request: SignedRequest): string {
        const authorization = header(request, "authorization");
        if (authorization !== undefined) return this.verifyV3(request, authorization);
        if (request.query.some(([name]) => name === "Signature") || request.form.some(([name]) => name === "Signature")) {
            return this.verifyV1(request);
        }
        throw incomplete("Neither an Authorization header nor a Signature parameter was sent.");
    }

    private verifyV3(request: SignedRequest, authorization: string): string {
        const parsed = parseV3Authorization(authorization);
        if (!parsed || parsed.algorithm !== V3_ALGORITHM)
            throw incomplete(`Expected ${V3_ALGORITHM} Credential=…,SignedHeaders=…,Signature=….`);
        const unsigned = REQUIRED_SIGNED_HEADERS.filter((name) => !parsed.signedHeaders.includes(name));
        if (unsigned.length > 0) throw incomplete(`SignedHeaders must include ${unsigned.join(", ")}.`);
        const signedHeaders: Record<string, string> = {};
        for (const name of parsed.signedHeaders) {
            const value = header(request, name);
            if (value === undefined) throw incomplete(`Signed header ${name} is missing from the request.`);
            signedHeaders[name] = value;
        }
        const key = this.accessKey(parsed.accessKeyId);
        this.checkTimestamp(signedHeaders["x-acs-date"]);
        if (signedHeaders["x-acs-content-sha256"] !== sha256Hex(request.body)) {
            throw mismatch("The x-acs-content-sha256 header does not match the request body.");
        }
        const canonicalRequest = v3CanonicalRequest({
            method: request.method,
            query: request.query,
            signedHeaders,
            payloadHash: signedHeaders["x-acs-content-sha256"],
        });
        if (!signaturesEqual(v3Signature(key.accessKeySecret, canonicalRequest), parsed.signature)) throw mismatch();
        this.checkNonce(key.accessKeyId, signedHeaders["x-acs-signature-nonce"]);
        this.checkSecurityToken(key, header(request, "x-acs-security-token"));
        return key.accessKeyId;
    }

    private verifyV1(request: SignedRequest): string {
        const params = [...request.query, ...request.form];
        const value = (name: string) => params.find(([n]) => n === name)?.[1];
        for (const name of ["AccessKeyId", "SignatureNonce", "Timestamp", "SignatureMethod"]) {
            if (!value(name)) throw incomplete(`The parameter ${name} is missing.`);
        }
        if (value("SignatureMethod") !== "HMAC-SHA1") throw incomplete("SignatureMethod must be HMAC-SHA1.");
        const key = this.accessKey(value("AccessKeyId") as string);
        this.checkTimestamp(value("Timestamp") as string);
        const stringToSign = v1StringToSign(request.method, params);
        if (!signaturesEqual(v1Signature(key.accessKeySecret, stringToSign), value("Signature") ?? "")) {
            // The real V1 message appends the server's StringToSign, which helps debug a client.
            throw mismatch(`server string to sign is:${stringToSign}`);
        }
        this.checkNonce(key.accessKeyId, value("SignatureNonce") as string);
        this.checkSecurityToken(key, value("SecurityToken"));
        return key.accessKeyId;
    }

    /** Emulator choice: 404, the first of the two statuses D-COMERR gives for this code. */
    private accessKey(accessKeyId: string): SeedAccessKey {
        const key = this.accessKeys().find((candidate) => candidate.accessKeyId === accessKeyId);
        if (!key) throw errors.accessKeyNotFound();
        return key;
    }

    private checkTimestamp(timestamp: string): void {
        const at = Date.parse(timestamp);
        if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(timestamp) || Number.isNaN(at)) {
            throw errors.timestampFormat();
        }
        // Both directions: a client clock running ahead is as wrong as one lagging behind.
        if (Math.abs(this.clock.now() - at) > TIMESTAMP_WINDOW_MS) {
            throw errors.timestampExpired();
        }
    }

    /** Checked after the signature, so unauthenticated garbage cannot fill the nonce store. */
    private checkNonce(accessKeyId: string, nonce: string): void {
        const now = this.clock.now();
        for (const [seen, at] of this.nonces) {
            if (now - at <= TIMESTAMP_WINDOW_MS && this.nonces.size < MAX_REMEMBERED_NONCES) break;
            this.nonces.delete(seen);
        }
        const key = `${accessKeyId}\u0000${nonce}`;
        if (this.nonces.has(key)) throw errors.nonceUsed();
        this.nonces.set(key, now);
    }

    /** An STS key is only valid with its own token (POP's `InvalidSecurityToken.*` family). */
    private checkSecurityToken(key: SeedAccessKey, token: string | undefined): void {
        if (key.securityToken === undefined) return;
        if (token === undefined || token === "") {
            throw errors.missingSecurityToken();
        }
        if (!signaturesEqual(key.securityToken, token)) {
            throw errors.securityTokenMismatch();
        }
    }
}

function header(request: SignedRequest, name: string): string | undefined {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
}
