/**
 * The key pairs of every region, with their public keys, and the name behind every public key ever
 * held (so the effective key of a guest can be named even after its key pair was deleted).
 */
import { createHash } from "node:crypto";
import { fingerprintOf, generateOpenSshKeyPair, keyOf } from "./publickeys";

export interface KeyPairView {
    name: string;
    region: string;
    creationTime: number;
    /** One OpenSSH line, `type base64 comment`. */
    publicKey: string;
    fingerprint: string;
}

export class KeyPairStore {
    private readonly byKey = new Map<string, KeyPairView>();
    private readonly nameOfPublicKey = new Map<string, string>();

    clear(): void {
        this.byKey.clear();
    }

    list(region?: string): KeyPairView[] {
        return [...this.byKey.values()]
            .filter((keyPair) => region === undefined || keyPair.region === region)
            .map((keyPair) => ({ ...keyPair }));
    }

    get(name: string, region: string): KeyPairView | undefined {
        const keyPair = this.byKey.get(storeKey(name, region));
        return keyPair && { ...keyPair };
    }

    /** Adds (or replaces) a key pair; without `publicKey`, a real ed25519 key is generated and its private key returned. */
    add(name: string, region: string, createdAt: number, publicKey?: string): { keyPair: KeyPairView; privateKey?: string } {
        const generated = publicKey === undefined ? generateOpenSshKeyPair(name) : undefined;
        const line = publicKey ?? generated?.publicKey ?? "";
        const keyPair: KeyPairView = { name, region, creationTime: createdAt, publicKey: line, fingerprint: fingerprintOf(line) };
        this.byKey.set(storeKey(name, region), keyPair);
        const key = keyOf(line);
        if (key !== undefined) this.nameOfPublicKey.set(key, name);
        return { keyPair: { ...keyPair }, privateKey: generated?.privateKey };
    }

    delete(name: string, region: string): boolean {
        return this.byKey.delete(storeKey(name, region));
    }

    /**
     * The line a boot writes for a key pair. A seed may bind a key pair it does not define: the guest
     * then gets a stand-in key, still named after it, so the effective key stays observable.
     */
    bootLine(name: string, region: string): string {
        const known = this.byKey.get(storeKey(name, region))?.publicKey;
        if (known !== undefined) return known;
        const standIn = `ssh-ed25519 ${createHash("sha256").update(storeKey(name, region)).digest("base64")} ${name}`;
        this.nameOfPublicKey.set(keyOf(standIn) ?? standIn, name);
        return standIn;
    }

    /** The key pair named by the newest of these keys (`type base64`) that one ever held. */
    nameOfNewest(keys: readonly string[]): string | undefined {
        const newest = [...keys].reverse().find((key) => this.nameOfPublicKey.has(key));
        return newest && this.nameOfPublicKey.get(newest);
    }
}

function storeKey(name: string, region: string): string {
    return `${region}\u0000${name}`;
}
