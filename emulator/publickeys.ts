/**
 * OpenSSH public keys for the emulator's key pairs: a real ed25519 key in the OpenSSH wire format
 * when a seed gives none (RFC 8709 §4: string "ssh-ed25519", string key), the MD5 fingerprint ECS
 * reports, and the key part of an `authorized_keys` line (what sshd compares; options and comment aside).
 */
import { createHash, generateKeyPairSync } from "node:crypto";

export interface GeneratedKeyPair {
    publicKey: string;
    /** PKCS#8 PEM, as CreateKeyPair's `PrivateKeyBody` hands it out once. */
    privateKey: string;
}

export function generateOpenSshKeyPair(comment: string): GeneratedKeyPair {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    // The SPKI DER of an ed25519 key ends with the 32 raw key bytes.
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
    return {
        publicKey: `ssh-ed25519 ${blob.toString("base64")} ${comment}`,
        privateKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    };
}

function sshString(bytes: Buffer): Buffer {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
}

const KEY_TYPES = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;

/** `type base64` of an OpenSSH public key or `authorized_keys` line (options before it skipped); undefined if none. */
export function keyOf(line: string): string | undefined {
    const fields = line.trim().split(/\s+/);
    const start = fields.findIndex((field) => KEY_TYPES.test(field));
    if (start < 0 || fields[start + 1] === undefined) return undefined;
    const blob = fields[start + 1];
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
    return `${fields[start]} ${blob}`;
}

/** ECS's KeyPairFingerPrint: MD5 of the decoded key blob, hex. */
export function fingerprintOf(publicKey: string): string {
    const key = keyOf(publicKey) ?? publicKey;
    return createHash("md5")
        .update(Buffer.from(key.split(" ")[1] ?? key, "base64"))
        .digest("hex");
}
