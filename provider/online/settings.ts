/**
 * The `activation` and `online` inputs (issue 12): how a key change is put in effect. "restart" (the
 * default) reboots Running instances as before; "online" writes the key into `authorized_keys`
 * through Cloud Assistant and falls back per instance as `online.fallback` says. Types, defaults and
 * the `check` validation live here, apart from the restart settings.
 */
import type { ValidationFailure } from "../validate";
import { DEFAULT_ONLINE_USERS } from "./script";

export type Activation = "restart" | "online";
export const ACTIVATIONS: readonly Activation[] = ["restart", "online"];

export type OnlineFallback = "restart" | "fail";
export const ONLINE_FALLBACKS: readonly OnlineFallback[] = ["restart", "fail"];

/** Used when `activation` is "online". */
export interface OnlineSettings {
    /** Login users whose `~/.ssh/authorized_keys` receive the key. Default ["root"]. */
    users?: string[];
    /** What happens on an instance where Cloud Assistant cannot make the change. Default "restart". */
    fallback?: OnlineFallback;
    /** How long one command may run on an instance (RunCommand Timeout), in seconds. Default 60. */
    timeoutSeconds?: number;
}

export const ONLINE_DEFAULTS: Required<OnlineSettings> = {
    users: [...DEFAULT_ONLINE_USERS],
    fallback: "restart",
    timeoutSeconds: 60,
};

/** RunCommand's Timeout range in seconds (Alibaba Cloud RunCommand: 10–86400). */
export const MIN_COMMAND_TIMEOUT_SECONDS = 10;
export const MAX_COMMAND_TIMEOUT_SECONDS = 86_400;

export function onlineSettingsWithDefaults(online: OnlineSettings | undefined): Required<OnlineSettings> {
    const given = Object.fromEntries(Object.entries(online ?? {}).filter(([, v]) => v !== undefined)) as OnlineSettings;
    const settings = { ...ONLINE_DEFAULTS, ...given };
    return settings.users.length ? settings : { ...settings, users: [...DEFAULT_ONLINE_USERS] };
}

/** True when the inputs ask for online activation. */
export function isOnline(settings: { activation?: Activation }): boolean {
    return settings.activation === "online";
}

/** The settings as one comparable string (diff: a change of these alone is an update without API calls). */
export function normalizedActivation(settings: { activation?: Activation; online?: OnlineSettings }): string {
    return JSON.stringify([settings.activation ?? "restart", onlineSettingsWithDefaults(settings.online)]);
}

const ONLINE_PROPERTIES = ["users", "fallback", "timeoutSeconds"];
/** POSIX portable filename characters; a user name must not start with "-" (useradd, POSIX 3.437). */
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
const MAX_USER_NAME_LENGTH = 32;
const USER_RULE = `letters, digits, ".", "_" and "-" (not first), at most ${MAX_USER_NAME_LENGTH} characters`;

/**
 * The engine's placeholder for a value unknown during preview (validate.ts UNKNOWN_VALUE; repeated
 * here so that validate.ts can stay free of this module and this module of it).
 */
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const isUnknown = (value: unknown) => value === UNKNOWN_VALUE;

export function validateActivation(value: unknown): ValidationFailure[] {
    if (value === undefined || isUnknown(value)) return [];
    if (typeof value === "string" && (ACTIVATIONS as readonly string[]).includes(value)) return [];
    return [
        {
            property: "activation",
            reason: `activation must be "restart" (reboot Running instances, the default) or "online" (Cloud Assistant, no reboot), got ${JSON.stringify(value)}`,
        },
    ];
}

export function validateOnline(value: unknown): ValidationFailure[] {
    if (value === undefined || isUnknown(value)) return [];
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return [{ property: "online", reason: `online must be an object with any of: ${ONLINE_PROPERTIES.join(", ")}` }];
    }
    const settings = value as Record<string, unknown>;
    const failures: ValidationFailure[] = [];
    const fail = (name: string, reason: string) => failures.push({ property: `online.${name}`, reason: `online.${name} ${reason}` });
    for (const name of Object.keys(settings)) {
        if (!ONLINE_PROPERTIES.includes(name)) fail(name, `is not an online setting; allowed: ${ONLINE_PROPERTIES.join(", ")}`);
    }
    const users = settings.users;
    if (users !== undefined && !isUnknown(users)) {
        if (!Array.isArray(users) || users.length === 0) {
            fail("users", `must be a list of at least one login user name (${USER_RULE}), got ${JSON.stringify(users)}`);
        } else {
            const seen = new Set<string>();
            users.forEach((user, index) => {
                if (isUnknown(user)) return;
                if (typeof user !== "string" || !USER_NAME.test(user) || user.length > MAX_USER_NAME_LENGTH) {
                    fail("users", `[${index}] ${JSON.stringify(user)} is not a login user name; allowed: ${USER_RULE}`);
                } else if (seen.has(user)) {
                    fail("users", `lists ${JSON.stringify(user)} more than once; each user may appear only once`);
                } else {
                    seen.add(user);
                }
            });
        }
    }
    const fallback = settings.fallback;
    if (fallback !== undefined && !isUnknown(fallback) && !(ONLINE_FALLBACKS as readonly unknown[]).includes(fallback)) {
        fail(
            "fallback",
            `must be "restart" (restart the instances Cloud Assistant cannot change, the default) or "fail" (fail them, partial state recorded), got ${JSON.stringify(fallback)}`,
        );
    }
    const timeout = settings.timeoutSeconds;
    if (
        timeout !== undefined &&
        !isUnknown(timeout) &&
        !(
            Number.isInteger(timeout) &&
            (timeout as number) >= MIN_COMMAND_TIMEOUT_SECONDS &&
            (timeout as number) <= MAX_COMMAND_TIMEOUT_SECONDS
        )
    ) {
        fail(
            "timeoutSeconds",
            `must be a whole number of seconds from ${MIN_COMMAND_TIMEOUT_SECONDS} to ${MAX_COMMAND_TIMEOUT_SECONDS} (RunCommand's Timeout), got ${JSON.stringify(timeout)}`,
        );
    }
    return failures;
}

/** The failures of both inputs (the `check` hook adds them to the others). */
export function validateActivationInputs(news: Record<string, unknown>): ValidationFailure[] {
    return [...validateActivation(news.activation), ...validateOnline(news.online)];
}
