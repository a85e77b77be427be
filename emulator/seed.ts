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
    /** Default ecs.g7.large. */
    instanceType?: string;
    imageId?: string;
    tags?: Record<string, string>;
    /** Login users; default ["root"]. Users named in `authorizedKeys` exist too. */
    users?: string[];
    /** Per user, the lines of `~/.ssh/authorized_keys` before the first boot writes the bound key. */
    authorizedKeys?: Record<string, string[]>;
    /** The Cloud Assistant agent is online; default true for Linux, false for Windows. */
    cloudAssistant?: boolean;
    /** Just created: inside the initialization window of `settings.initializationMs`, as after RunInstances. */
    fresh?: boolean;
}

export interface SeedKeyPair {
    name: string;
    /** Default `cn-hangzhou`. */
    region?: string;
    /** One OpenSSH public key line; default a freshly generated ed25519 key. */
    publicKey?: string;
}

/** Real-ECS behaviours to switch on; a seed's settings apply on top of the current ones. */
export interface SeedSettings {
    /**
     * Instances made by RunInstances (or seeded `fresh`) refuse AttachKeyPair/RebootInstances this long
     * after creation, before timeScale (ecs-api.md §12.4). Default 0.
     */
    initializationMs?: number;
    /**
     * What a refused call gets during initialization: `IncorrectInstanceStatus.Initializing` per
     * instance (default), or `ServiceUnavailable` for the whole request (what packer users report).
     */
    initializingAnswer?: "Initializing" | "ServiceUnavailable";
    /** DescribeInstances shows a key pair or status change this long after it happened, before timeScale. Default 0. */
    consistencyDelayMs?: number;
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
    settings?: SeedSettings;
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
    parseSettings(seed.settings, source);
    for (const keyPair of (seed.keyPairs ?? []) as Partial<SeedKeyPair>[]) {
        if (typeof keyPair.name !== "string" || keyPair.name === "") {
            throw new Error(`${source}: every key pair needs a string "name"`);
        }
    }
    return seed;
}

function parseSettings(value: unknown, source: string): void {
    if (value === undefined) return;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${source}: "settings" must be an object`);
    const settings = value as Record<string, unknown>;
    for (const field of ["initializationMs", "consistencyDelayMs"] as const) {
        const ms = settings[field];
        if (ms !== undefined && !(typeof ms === "number" && ms >= 0)) throw new Error(`${source}: settings.${field} must be a number >= 0`);
    }
    const answer = settings.initializingAnswer;
    if (answer !== undefined && answer !== "Initializing" && answer !== "ServiceUnavailable") {
        throw new Error(`${source}: settings.initializingAnswer must be "Initializing" or "ServiceUnavailable"`);
    }
}
