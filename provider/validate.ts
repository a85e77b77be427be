/**
 * Local validation of KeyPairAttachment inputs (the `check` hook): formats only, no API call.
 * Every failure names the property and says what is allowed.
 */
import { validateActivationInputs } from "./online/settings";
import type { KeyPairAttachmentInputs } from "./types";

/**
 * The Pulumi engine's placeholder for a value not known during preview
 * (`pulumi.runtime.unknownValue` in @pulumi/pulumi/runtime/rpc). Kept as a literal so that this
 * pure module does not load the Pulumi SDK.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface ValidationFailure {
    property: string;
    reason: string;
}

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN_VALUE;
}

/** True when the value, or anything inside it, is still unknown. */
export function containsUnknown(value: unknown): boolean {
    if (isUnknown(value)) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

// ImportKeyPair naming rules (ecs-api.md §2.2): 2–128 characters, starts with a letter or a Chinese
// character (both are Unicode letters), then letters, digits, ":", "_", ".", "-"; not http:// or https://.
const KEY_PAIR_NAME = /^\p{L}[\p{L}\p{Nd}:_.-]{1,127}$/u;
const KEY_PAIR_NAME_RULE =
    "2–128 characters, starting with a letter (or a Chinese character), then letters, digits, ':', '_', '.' or '-', and not starting with http:// or https://";

// ECS instance ids: "i-" then lower-case letters and digits (e.g. i-bp1f4hm0c2c7a3rjs8xq).
const INSTANCE_ID = /^i-[a-z0-9]{1,62}$/;
const INSTANCE_ID_RULE = "'i-' followed by lower-case letters and digits, at most 64 characters, e.g. i-bp1f4hm0c2c7a3rjs8xq";

// ECS region ids: cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1, us-west-1 …
const REGION_ID = /^[a-z]{2,}(-[a-z0-9]+)+$/;
const REGION_RULE = "an ECS region id such as cn-hangzhou or ap-southeast-1";

/** Every input of KeyPairAttachment (the plugin's schema declares the same). */
export const INPUT_PROPERTIES = [
    "keyPairName",
    "instanceIds",
    "region",
    "restart",
    "passwordOnUnbind",
    "waitForReadySeconds",
    "activation",
    "online",
] as const satisfies readonly (keyof KeyPairAttachmentInputs)[];
const RESTART_PROPERTIES = ["enabled", "force", "batchSize", "timeoutSeconds", "pollIntervalSeconds", "onUnbind"];

export function validateKeyPairName(value: unknown): string | undefined {
    if (isUnknown(value)) return undefined;
    if (typeof value !== "string") return `keyPairName is required: a string of ${KEY_PAIR_NAME_RULE}`;
    if (/^https?:\/\//i.test(value)) return `keyPairName must not start with http:// or https://; allowed: ${KEY_PAIR_NAME_RULE}`;
    if (!KEY_PAIR_NAME.test(value)) return `keyPairName ${JSON.stringify(value)} is not valid; allowed: ${KEY_PAIR_NAME_RULE}`;
    return undefined;
}

export function validateInstanceIds(value: unknown): string[] {
    if (isUnknown(value)) return [];
    if (!Array.isArray(value)) return [`instanceIds is required: a list of at least one instance id (${INSTANCE_ID_RULE})`];
    if (value.length === 0) return ["instanceIds must list at least one instance id"];
    const reasons: string[] = [];
    const seen = new Set<string>();
    value.forEach((id, index) => {
        if (isUnknown(id)) return;
        if (typeof id !== "string" || !INSTANCE_ID.test(id)) {
            reasons.push(`instanceIds[${index}] ${JSON.stringify(id)} is not an instance id; allowed: ${INSTANCE_ID_RULE}`);
        } else if (seen.has(id)) {
            reasons.push(`instanceIds lists ${id} more than once; each instance may appear only once`);
        } else {
            seen.add(id);
        }
    });
    return reasons;
}

export function validateRegion(value: unknown): string | undefined {
    if (value === undefined || isUnknown(value)) return undefined;
    if (typeof value !== "string" || !REGION_ID.test(value)) {
        return `region ${JSON.stringify(value)} is not valid; allowed: ${REGION_RULE}, or leave it unset to use alicloud:region`;
    }
    return undefined;
}

export function validateRestart(value: unknown): ValidationFailure[] {
    if (value === undefined || isUnknown(value)) return [];
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return [{ property: "restart", reason: `restart must be an object with any of: ${RESTART_PROPERTIES.join(", ")}` }];
    }
    const settings = value as Record<string, unknown>;
    const failures: ValidationFailure[] = [];
    const fail = (name: string, reason: string) => failures.push({ property: `restart.${name}`, reason: `restart.${name} ${reason}` });
    for (const name of Object.keys(settings)) {
        if (!RESTART_PROPERTIES.includes(name)) fail(name, `is not a restart setting; allowed: ${RESTART_PROPERTIES.join(", ")}`);
    }
    for (const name of ["enabled", "force", "onUnbind"]) {
        const v = settings[name];
        if (v !== undefined && !isUnknown(v) && typeof v !== "boolean") fail(name, `must be true or false, got ${JSON.stringify(v)}`);
    }
    const batchSize = settings.batchSize;
    if (batchSize !== undefined && !isUnknown(batchSize) && !(Number.isInteger(batchSize) && (batchSize as number) >= 0)) {
        fail("batchSize", `must be a whole number ≥ 0 (0 restarts all at once), got ${JSON.stringify(batchSize)}`);
    }
    for (const name of ["timeoutSeconds", "pollIntervalSeconds"]) {
        const v = settings[name];
        if (v !== undefined && !isUnknown(v) && !(typeof v === "number" && Number.isFinite(v) && v > 0)) {
            fail(name, `must be a number of seconds > 0, got ${JSON.stringify(v)}`);
        }
    }
    return failures;
}

// ModifyInstanceAttribute password rules (ecs-api.md §2.9): 8–30 characters, at least three of
// upper case, lower case, digits and these special characters.
const PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/";
const PASSWORD_RULE = `8–30 characters with at least three of: upper-case letters, lower-case letters, digits, and the special characters ${PASSWORD_SPECIALS}`;

/** Says what is wrong with a password without ever repeating it. */
export function validatePassword(value: unknown): string | undefined {
    if (value === undefined || isUnknown(value)) return undefined;
    if (typeof value !== "string") return `passwordOnUnbind must be a string of ${PASSWORD_RULE}`;
    const chars = [...value];
    if (chars.length < 8 || chars.length > 30) return `passwordOnUnbind has ${chars.length} characters; allowed: ${PASSWORD_RULE}`;
    if (!chars.every((c) => /[A-Za-z0-9]/.test(c) || PASSWORD_SPECIALS.includes(c))) {
        return `passwordOnUnbind contains a character that is not allowed (letters, digits and ${PASSWORD_SPECIALS} only); allowed: ${PASSWORD_RULE}`;
    }
    const classes =
        [/[A-Z]/, /[a-z]/, /[0-9]/].filter((r) => r.test(value)).length + (chars.some((c) => PASSWORD_SPECIALS.includes(c)) ? 1 : 0);
    if (classes < 3) return `passwordOnUnbind uses only ${classes} kind(s) of character; allowed: ${PASSWORD_RULE}`;
    return undefined;
}

/** A number of seconds ≥ 0 (0: no waiting beyond the ordinary retries of one call). */
export function validateWaitForReadySeconds(value: unknown): string | undefined {
    if (value === undefined || isUnknown(value)) return undefined;
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return undefined;
    return (
        `waitForReadySeconds must be a number of seconds ≥ 0 (how long fresh instances may answer "not ready"; ` +
        `default 300, 0 = no waiting), got ${JSON.stringify(value)}`
    );
}

/** All failures of a set of inputs, by property. Never throws, whatever the input. */
export function validateInputs(news: Record<string, unknown>): ValidationFailure[] {
    const failures: ValidationFailure[] = [];
    for (const name of Object.keys(news)) {
        // Engine-internal keys (`__provider`) and the declared outputs that the program seeds as undefined.
        if (name.startsWith("__") || news[name] === undefined) continue;
        if (!(INPUT_PROPERTIES as readonly string[]).includes(name)) {
            failures.push({
                property: name,
                reason: `${name} is not an input of KeyPairAttachment; allowed: ${INPUT_PROPERTIES.join(", ")}`,
            });
        }
    }
    const keyPairName = validateKeyPairName(news.keyPairName);
    if (keyPairName) failures.push({ property: "keyPairName", reason: keyPairName });
    for (const reason of validateInstanceIds(news.instanceIds)) failures.push({ property: "instanceIds", reason });
    const region = validateRegion(news.region);
    if (region) failures.push({ property: "region", reason: region });
    failures.push(...validateRestart(news.restart));
    const password = validatePassword(news.passwordOnUnbind);
    if (password) failures.push({ property: "passwordOnUnbind", reason: password });
    failures.push(...validateActivationInputs(news));
    const waitForReady = validateWaitForReadySeconds(news.waitForReadySeconds);
    if (waitForReady) failures.push({ property: "waitForReadySeconds", reason: waitForReady });
    return failures;
}
