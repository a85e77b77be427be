/**
 * The engine's wire conventions for property values (the plugin accepts secrets): secret values
 * arrive wrapped in a signature object, unknown values (preview) as a sentinel string. The
 * lifecycle works on plain values, so they are unwrapped at the door and `passwordOnUnbind` is
 * wrapped again on the way out — it is always a secret in the state, whatever the program did.
 */
import { UNKNOWN_VALUE } from "../provider/validate";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export { UNKNOWN_VALUE };

/** The properties kept as secrets wherever the plugin returns them (schema.json marks them `secret`). */
export const SECRET_PROPERTIES: readonly string[] = ["passwordOnUnbind"];

function isSecret(value: unknown): value is { value: unknown } {
    return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Removes every secret wrapper, deeply. */
export function unwrapSecrets(value: unknown): unknown {
    if (isSecret(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

export function secret(value: unknown): Record<string, unknown> {
    return { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

/** Wraps the secret properties of an object (inputs or outputs) for the engine; leaves the rest alone. */
export function wrapSecrets<T extends object>(properties: T): Record<string, unknown> {
    const result: Record<string, unknown> = { ...(properties as Record<string, unknown>) };
    for (const key of SECRET_PROPERTIES) {
        if (result[key] !== undefined && !isSecret(result[key])) result[key] = secret(result[key]);
    }
    return result;
}

/** Plain objects only: the lifecycle's outputs never hold `undefined`, but a Struct cannot encode it. */
export function withoutUndefined(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutUndefined);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.entries(value)
                .filter(([, v]) => v !== undefined)
                .map(([k, v]) => [k, withoutUndefined(v)]),
        );
    }
    return value;
}
