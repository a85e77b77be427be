/**
 * The effect of the package's own authorized_keys script (provider/online/authorized-keys.sh), applied
 * to the model instead of running it: for each user, add the new public key line once, remove the
 * replaced key's line, leave every other line as it was; a user that does not exist fails the run
 * and changes nothing. The parameter names are the script's Cloud Assistant parameters; keys travel
 * Base64-encoded (ecs-api.md §12.2: parameters are substituted into the text as they are).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type KnownScripts, type ScriptEffect, scriptHash } from "./cloudassistant";

export interface AuthorizedKeysParameters {
    /** Login users, separated by commas or spaces; default "root". */
    users: string;
    /** Base64 of the public key line to install; may be empty (an unbind removes only). */
    addKey: string;
    /** Base64 of the line of the key pair the binding replaced; may be empty. */
    removeKey: string;
}

export const DEFAULT_PARAMETER_NAMES: AuthorizedKeysParameters = { users: "users", addKey: "addKey", removeKey: "removeKey" };

/** Exit codes of the effect, as the script documents them (emulator choice where it does not). */
export const EXIT_UNKNOWN_USER = 3;

export function authorizedKeysEffect(names: AuthorizedKeysParameters = DEFAULT_PARAMETER_NAMES): ScriptEffect {
    return (guest, parameters) => {
        const users = (parameters[names.users] ?? "root").split(/[\s,]+/).filter(Boolean);
        const decode = (name: string) =>
            Buffer.from(parameters[name] ?? "", "base64")
                .toString("utf8")
                .trim();
        const addKey = decode(names.addKey);
        const removeKey = decode(names.removeKey);
        const unknown = users.filter((user) => !guest.hasUser(user));
        if (unknown.length > 0) {
            return { exitCode: EXIT_UNKNOWN_USER, output: unknown.map((user) => `authorized-keys: no such user: ${user}\n`).join("") };
        }
        const lines: string[] = [];
        for (const user of users) {
            if (removeKey !== "" && removeKey !== addKey) guest.removeKey(user, removeKey);
            if (addKey !== "") guest.addKey(user, addKey);
            lines.push(`authorized-keys: ${user}: done\n`);
        }
        return { exitCode: 0, output: lines.join("") };
    };
}

/** Where the package's script is, from the source tree (emulator/) or the build (dist/emulator/). */
const SCRIPT_CANDIDATES = [
    join(__dirname, "..", "provider", "online", "authorized-keys.sh"),
    join(__dirname, "..", "..", "provider", "online", "authorized-keys.sh"),
];

/** The default registry: the package's own script (when it is there) with the effect above. */
export function packageKnownScripts(candidates: readonly string[] = SCRIPT_CANDIDATES): KnownScripts {
    const scripts = new Map<string, ScriptEffect>();
    const path = candidates.find((candidate) => existsSync(candidate));
    if (path !== undefined) scripts.set(scriptHash(readFileSync(path, "utf8")), authorizedKeysEffect());
    return scripts;
}
