/**
 * The Cloud Assistant script that puts a key in effect online (`authorized-keys.sh`, next to this
 * file) and the RunCommand fields that send it.
 *
 * The script text is constant: its inputs travel as Cloud Assistant custom parameters, which the agent
 * pastes into the text verbatim (`{{name}}`, EnableParameter=true). That is only safe because every
 * value is built here from a restricted alphabet — user names `[A-Za-z0-9._-]` joined by commas, and
 * public keys encoded as Base64 — and the script checks the same alphabet again before using a value.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

const SCRIPT_FILE_NAME = "authorized-keys.sh";

/**
 * Where the script is found: next to this module (ts-jest runs `provider/online/script.ts`; a build
 * that copies the file puts it next to `dist/provider/online/script.js`), else in the package's
 * `provider/online/` seen from `dist/provider/online/` (package.json "files" must list it).
 */
const SCRIPT_CANDIDATE_PATHS = [
    path.join(__dirname, SCRIPT_FILE_NAME),
    path.resolve(__dirname, "..", "..", "..", "provider", "online", SCRIPT_FILE_NAME),
];

function locateScript(): string {
    const found = SCRIPT_CANDIDATE_PATHS.find((candidate) => existsSync(candidate));
    if (found === undefined) {
        throw new Error(
            `${SCRIPT_FILE_NAME} is missing from the package (looked in ${SCRIPT_CANDIDATE_PATHS.join(", ")}); ` +
                `reinstall the package, or add provider/online/${SCRIPT_FILE_NAME} to package.json "files"`,
        );
    }
    return found;
}

export const AUTHORIZED_KEYS_SCRIPT_PATH = locateScript();
/** The script as sent (before Cloud Assistant substitutes the parameters). */
export const AUTHORIZED_KEYS_SCRIPT = readFileSync(AUTHORIZED_KEYS_SCRIPT_PATH, "utf8");
/** Hex SHA-256 of the script's bytes: the same for every call, so the emulator can recognise it. */
export const AUTHORIZED_KEYS_SCRIPT_SHA256 = createHash("sha256").update(AUTHORIZED_KEYS_SCRIPT, "utf8").digest("hex");

/** The parameter names the script holds, each exactly once, as `{{name}}`. */
export const AUTHORIZED_KEYS_PARAMETER_NAMES = ["users", "addKey", "removeKeys"] as const;
export type AuthorizedKeysParameters = Record<(typeof AUTHORIZED_KEYS_PARAMETER_NAMES)[number], string>;

/** Default login user when none is given (issue 12: `online.users` defaults to `["root"]`). */
export const DEFAULT_ONLINE_USERS: readonly string[] = ["root"];

/**
 * RunCommand: "After the custom parameters and the original command content are encoded in Base64,
 * the total size can be up to 16 KB" (Alibaba Cloud, ALIYUN::ECS::RunCommand / RunCommand Parameters).
 */
export const MAX_COMMAND_AND_PARAMETERS_BASE64_BYTES = 16 * 1024;

/** POSIX portable user names, at most 32 characters, not starting with a hyphen. */
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/;
/** One OpenSSH public key line: type, Base64 body, optional comment; the same rule as the script's. */
const PUBLIC_KEY_LINE = /^(?:ssh|ecdsa|sk)-[A-Za-z0-9@._+-]+[ \t]+[A-Za-z0-9+/]+={0,3}(?:[ \t].*)?$/;
/** The alphabets the script accepts for each parameter value. */
const PARAMETER_ALPHABET: Record<keyof AuthorizedKeysParameters, RegExp> = {
    users: /^[A-Za-z0-9._,-]*$/,
    addKey: /^[A-Za-z0-9+/=]*$/,
    removeKeys: /^[A-Za-z0-9+/=,]*$/,
};

export interface AuthorizedKeysChange {
    /** Login users whose `~/.ssh/authorized_keys` change; default `["root"]`. */
    users?: readonly string[];
    /** The OpenSSH public key line to install, or undefined (unbind). */
    addPublicKey?: string;
    /** The public key lines whose lines are removed (the key pair this binding replaced; the unbound key). */
    removePublicKeys?: readonly string[];
}

/** The RunCommand fields for the script, named as in the SDK's `RunCommandRequest`. */
export interface AuthorizedKeysCommand {
    type: "RunShellScript";
    contentEncoding: "Base64";
    commandContent: string;
    enableParameter: true;
    parameters: AuthorizedKeysParameters;
}

function encodePublicKey(publicKey: string, role: string): string {
    const line = publicKey.trim();
    if (/[\r\n\0]/.test(line) || !PUBLIC_KEY_LINE.test(line)) {
        throw new Error(
            `the ${role} is not one OpenSSH public key line ("<type> <Base64 body> [comment]", for example ssh-ed25519 AAAA… user@host); ` +
                `check the key pair's public key (DescribeKeyPairs IncludePublicKey=true)`,
        );
    }
    return Buffer.from(line, "utf8").toString("base64");
}

/** Characters in the Base64 of `bytes` bytes (with padding). */
function base64Length(bytes: number): number {
    return 4 * Math.ceil(bytes / 3);
}

/** The parameter values for one change; throws when a user name or a key cannot be sent safely. */
export function authorizedKeysParameters(change: AuthorizedKeysChange): AuthorizedKeysParameters {
    const users = change.users === undefined || change.users.length === 0 ? DEFAULT_ONLINE_USERS : change.users;
    const invalid = users.filter((user) => !USER_NAME.test(user));
    if (invalid.length > 0) {
        throw new Error(
            `invalid login user name(s) ${invalid.map((user) => JSON.stringify(user)).join(", ")}: ` +
                `use letters, digits, ".", "_" and "-" (not first), at most 32 characters`,
        );
    }
    const parameters: AuthorizedKeysParameters = {
        users: users.join(","),
        addKey: change.addPublicKey === undefined ? "" : encodePublicKey(change.addPublicKey, "public key to add"),
        removeKeys: (change.removePublicKeys ?? []).map((key) => encodePublicKey(key, "public key to remove")).join(","),
    };
    for (const name of AUTHORIZED_KEYS_PARAMETER_NAMES) {
        if (!PARAMETER_ALPHABET[name].test(parameters[name])) {
            throw new Error(`internal error: parameter ${name} holds characters outside its safe alphabet`);
        }
    }
    return parameters;
}

/** The RunCommand fields (without instance ids, region and timeout) that apply one change. */
export function buildAuthorizedKeysCommand(change: AuthorizedKeysChange): AuthorizedKeysCommand {
    const parameters = authorizedKeysParameters(change);
    const commandContent = Buffer.from(AUTHORIZED_KEYS_SCRIPT, "utf8").toString("base64");
    const size = commandContent.length + base64Length(Buffer.byteLength(JSON.stringify(parameters), "utf8"));
    if (size > MAX_COMMAND_AND_PARAMETERS_BASE64_BYTES) {
        throw new Error(
            `the Cloud Assistant command for users ${parameters.users} would be ${size} bytes in Base64, over RunCommand's ` +
                `${MAX_COMMAND_AND_PARAMETERS_BASE64_BYTES}; give fewer users or keys per change`,
        );
    }
    return { type: "RunShellScript", contentEncoding: "Base64", commandContent, enableParameter: true, parameters };
}

/**
 * What the Cloud Assistant agent does before running a script with EnableParameter=true: replace each
 * `{{ name }}` (blanks around the name ignored, names case-insensitive) by its value, verbatim. For tests
 * and for an emulator that runs the script for real; throws on a placeholder without a value.
 */
export function substituteCloudAssistantParameters(script: string, parameters: Readonly<Record<string, string>>): string {
    const byLowerName = new Map(Object.entries(parameters).map(([name, value]) => [name.toLowerCase(), value]));
    return script.replace(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g, (_placeholder, name: string) => {
        const value = byLowerName.get(name.toLowerCase());
        if (value === undefined) {
            throw new Error(`no value for Cloud Assistant parameter {{${name}}}`);
        }
        return value;
    });
}

/** One result line of the script (`user=… added=… removed=… file=…`). */
export interface AuthorizedKeysUserResult {
    user: string;
    added: "yes" | "present" | "none";
    removed: number;
    file: "created" | "updated" | "unchanged";
}

const RESULT_LINE = /^user=([A-Za-z0-9._-]+) added=(yes|present|none) removed=(\d+) file=(created|updated|unchanged)$/;

/** The per-user results in a command's (decoded) output; other lines are ignored. */
export function parseAuthorizedKeysOutput(output: string): AuthorizedKeysUserResult[] {
    return output.split("\n").flatMap((line) => {
        const match = RESULT_LINE.exec(line);
        if (match === null) {
            return [];
        }
        const [, user, added, removed, file] = match;
        return [{ user, added, removed: Number(removed), file } as AuthorizedKeysUserResult];
    });
}
