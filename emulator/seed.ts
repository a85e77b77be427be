/** The emulator's initial state: access keys, key pairs and instances, from code or a JSON file. */
import { readFileSync } from "node:fs";

export type InstanceStatus = "Running" | "Stopped" | "Pending" | "Starting" | "Stopping";
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ["Pending", "Running", "Starting", "Stopping", "Stopped"];

export interface SeedInstance {
    id: string;
    /** Default `cn-hangzhou`. */
    region?: string;
    name?: string;
    /** Default Running. A transient status progresses like a real one (Starting → Running, …). */
    status?: InstanceStatus;
    /** Default linux. */
    osType?: "linux" | "windows";
    /** Default true. */
    ioOptimized?: boolean;
    keyPairName?: string;
    lockedForSecurity?: boolean;
}

export interface SeedKeyPair {
    name: string;
    /** Default `cn-hangzhou`. */
    region?: string;
}

export interface SeedAccessKey {
    accessKeyId: string;
    accessKeySecret: string;
    /** When set, every request signed with this key must carry this STS token. */
    securityToken?: string;
}

export interface Seed {
    accessKeys?: SeedAccessKey[];
    keyPairs?: SeedKeyPair[];
    instances?: SeedInstance[];
}

export const DEFAULT_REGION = "cn-hangzhou";

/** Always accepted, in addition to `seed.accessKeys`, so a bare emulator works out of the box. */
export const DEFAULT_ACCESS_KEY: SeedAccessKey = {
    accessKeyId: "emulator-access-key",
    accessKeySecret: "emulator-access-secret",
};

/** Reads a seed file and checks its shape well enough to fail at start-up rather than mid-test. */
export function loadSeedFile(path: string): Seed {
    return parseSeed(JSON.parse(readFileSync(path, "utf8")), path);
}

export function parseSeed(value: unknown, source = "seed"): Seed {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`${source}: expected a JSON object with accessKeys, keyPairs and instances`);
    }
    const seed = value as Record<string, unknown>;
    for (const field of ["accessKeys", "keyPairs", "instances"] as const) {
        if (seed[field] !== undefined && !Array.isArray(seed[field])) {
            throw new Error(`${source}: "${field}" must be an array`);
        }
    }
    for (const instance of (seed.instances ?? []) as Partial<SeedInstance>[]) {
        if (typeof instance.id !== "string" || instance.id === "") {
            throw new Error(`${source}: every instance needs a string "id"`);
        }
        if (instance.status !== undefined && !INSTANCE_STATUSES.includes(instance.status)) {
            throw new Error(`${source}: instance ${instance.id} has unknown status "${instance.status}"`);
        }
    }
    for (const keyPair of (seed.keyPairs ?? []) as Partial<SeedKeyPair>[]) {
        if (typeof keyPair.name !== "string" || keyPair.name === "") {
            throw new Error(`${source}: every key pair needs a string "name"`);
        }
    }
    return seed;
}
