/**
 * Request parameters as ECS reads them: a flat string map merged from the query and a form body,
 * with repeat lists (`InstanceId.1`, `InstanceId.2`) and JSON-array strings (`InstanceIds`).
 * Every accessor throws the `EcsError` ECS gives for a missing or malformed value.
 */
import { type EcsError, errors, missingParameter } from "./errors";

export class Params {
    constructor(readonly values: Readonly<Record<string, string>>) {}

    optional(name: string): string | undefined {
        const value = this.values[name];
        return value === undefined || value === "" ? undefined : value;
    }

    required(name: string): string {
        const value = this.optional(name);
        if (value === undefined) throw missingParameter(name);
        return value;
    }

    /** `true`/`false` as the SDK serialises booleans; anything else is refused. */
    bool(name: string): boolean {
        const value = this.optional(name);
        if (value === undefined) return false;
        if (value === "true" || value === "false") return value === "true";
        throw errors.invalidParameter(name, "Expected true or false.");
    }

    /** An integer within [min, max]; out of range is refused rather than clamped, to expose client bugs. */
    int(name: string, range: { min: number; max: number; default: number }): number {
        const value = this.optional(name);
        if (value === undefined) return range.default;
        const parsed = Number(value);
        if (!Number.isInteger(parsed) || parsed < range.min || parsed > range.max) {
            throw errors.invalidParameter(name, `Expected an integer from ${range.min} to ${range.max}.`);
        }
        return parsed;
    }

    /** `Name.1`, `Name.2`, … in index order, duplicates removed (CORE `flatMap`). */
    repeatList(name: string): string[] {
        const prefix = `${name}.`;
        const indexed = Object.entries(this.values)
            .filter(([key]) => key.startsWith(prefix) && /^\d+$/.test(key.slice(prefix.length)))
            .map(([key, value]) => [Number(key.slice(prefix.length)), value] as const)
            .sort(([a], [b]) => a - b);
        return unique(indexed.map(([, value]) => value).filter((value) => value !== ""));
    }

    /**
     * `Name.1.Key`, `Name.1.Value`, `Name.2.Key`, … (the SDK's flat form of a list of objects), in
     * index order; a field not sent is undefined.
     */
    objectList<F extends string>(name: string, fields: readonly F[]): Partial<Record<F, string>>[] {
        const pattern = new RegExp(`^${name.replace(/\./g, "\\.")}\\.(\\d+)\\.(${fields.join("|")})$`);
        const byIndex = new Map<number, Partial<Record<F, string>>>();
        for (const [key, value] of Object.entries(this.values)) {
            const match = pattern.exec(key);
            if (!match) continue;
            const index = Number(match[1]);
            const entry: Partial<Record<F, string>> = byIndex.get(index) ?? {};
            entry[match[2] as F] = value;
            byIndex.set(index, entry);
        }
        return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
    }

    /** A JSON array of strings in one parameter, e.g. `InstanceIds=["i-1","i-2"]`; undefined if absent. */
    jsonStringArray(name: string, malformed: () => EcsError): string[] | undefined {
        const raw = this.optional(name);
        if (raw === undefined) return undefined;
        const parsed = parseStringArray(raw);
        if (parsed === undefined) throw malformed();
        return parsed;
    }
}

function parseStringArray(raw: string): string[] | undefined {
    try {
        const parsed: unknown = JSON.parse(raw);
        return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? unique(parsed) : undefined;
    } catch {
        return undefined;
    }
}

function unique(values: string[]): string[] {
    return [...new Set(values)];
}

/** All instance ids a call names, whichever form it uses; recorded with each call for tests. */
export function instanceIdsOf(values: Readonly<Record<string, string>>): string[] {
    const params = new Params(values);
    const single = params.optional("InstanceId");
    // A malformed list is the action's error to report; the call log just records no ids from it.
    const fromJson = parseStringArray(params.optional("InstanceIds") ?? "[]") ?? [];
    return unique([...(single ? [single] : []), ...params.repeatList("InstanceId"), ...fromJson]);
}

/**
 * ECS `*` wildcard (DescribeKeyPairs `KeyPairName`, DescribeInstances `InstanceName`). Matched by
 * hand in O(pattern × value): a regular expression with many `*` backtracks exponentially, so a
 * request such as `*a*a*a*a*a*a*a*a*b` against a long name would hang the emulator.
 */
export function matchesWildcard(pattern: string, value: string): boolean {
    if (!pattern.includes("*")) return pattern === value;
    let p = 0;
    let v = 0;
    let star = -1;
    let resume = 0;
    while (v < value.length) {
        if (p < pattern.length && pattern[p] === "*") {
            star = p++;
            resume = v;
        } else if (p < pattern.length && pattern[p] === value[v]) {
            p++;
            v++;
        } else if (star >= 0) {
            p = star + 1;
            v = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.length && pattern[p] === "*") p++;
    return p === pattern.length;
}

/** ECS timestamps in Describe* bodies look like `2023-09-04T08:33Z` (ecs-api.md §2.2, §2.3). */
export function ecsMinuteTime(epochMs: number): string {
    return new Date(epochMs).toISOString().slice(0, 16) + "Z";
}
