/** The RunCommand fields built for authorized-keys.sh: a constant text and parameters from a safe alphabet. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";

import fc from "fast-check";

import {
    AUTHORIZED_KEYS_PARAMETER_NAMES,
    AUTHORIZED_KEYS_SCRIPT,
    AUTHORIZED_KEYS_SCRIPT_SHA256,
    MAX_COMMAND_AND_PARAMETERS_BASE64_BYTES,
    authorizedKeysParameters,
    buildAuthorizedKeysCommand,
    parseAuthorizedKeysOutput,
    substituteCloudAssistantParameters,
} from "../../provider/online/script";

const SCRIPT_FILE = path.resolve(__dirname, "..", "..", "provider", "online", "authorized-keys.sh");
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILfT3U8NRIFLronkAdzWIMC6b18tSHInsRM71I8Gv/1z new@pulumi";
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq3x9Yl1p7k2o3Jm6QyZrZ7jG3a1yq0Zl3XcO1c6h0z old@pulumi";
/** A 4096-bit RSA public key body is 716 Base64 characters. */
const RSA_4096 = `ssh-rsa AAAAB3NzaC1yc2E${"A".repeat(716 - 15)} admin@example`;

const decode = (base64: string): string => Buffer.from(base64, "base64").toString("utf8");

describe("the script text", () => {
    test("is the package file, named by the SHA-256 of its bytes, and sent unchanged by every call", () => {
        const bytes = readFileSync(SCRIPT_FILE);
        expect(AUTHORIZED_KEYS_SCRIPT).toBe(bytes.toString("utf8"));
        expect(AUTHORIZED_KEYS_SCRIPT_SHA256).toBe(createHash("sha256").update(bytes).digest("hex"));
        const bind = buildAuthorizedKeysCommand({ addPublicKey: KEY_B, removePublicKeys: [KEY_A] });
        const unbind = buildAuthorizedKeysCommand({ users: ["ecs-user"], removePublicKeys: [KEY_B] });
        expect(decode(bind.commandContent)).toBe(AUTHORIZED_KEYS_SCRIPT);
        expect(unbind.commandContent).toBe(bind.commandContent);
    });

    test("holds exactly the three parameters, each once, inside single quotes", () => {
        const placeholders = [...AUTHORIZED_KEYS_SCRIPT.matchAll(/'?\{\{\s*([^}]*?)\s*\}\}'?/g)].map((match) => match[0]);
        expect(placeholders).toEqual(AUTHORIZED_KEYS_PARAMETER_NAMES.map((name) => `'{{${name}}}'`));
    });
});

describe("authorizedKeysParameters", () => {
    test("defaults to root, Base64-encodes each key line and joins lists with commas", () => {
        expect(authorizedKeysParameters({ addPublicKey: `  ${KEY_B}\n`, removePublicKeys: [KEY_A, RSA_4096] })).toEqual({
            users: "root",
            addKey: Buffer.from(KEY_B).toString("base64"),
            removeKeys: `${Buffer.from(KEY_A).toString("base64")},${Buffer.from(RSA_4096).toString("base64")}`,
        });
        expect(authorizedKeysParameters({ users: ["root", "ecs-user", "deploy.bot_1"] })).toEqual({
            users: "root,ecs-user,deploy.bot_1",
            addKey: "",
            removeKeys: "",
        });
        expect(authorizedKeysParameters({ users: [] }).users).toBe("root");
    });

    test.each([
        { users: ["root;id"], named: '"root;id"' },
        { users: ["-rf"], named: '"-rf"' },
        { users: ["ali ce"], named: '"ali ce"' },
        { users: ["o'brien"], named: '"o\'brien"' },
        { users: ["{{users}}"], named: '"{{users}}"' },
        { users: ["root", ""], named: '""' },
        { users: ["a".repeat(33)], named: `"${"a".repeat(33)}"` },
    ])("refuses the user name $named", ({ users, named }) => {
        expect(() => authorizedKeysParameters({ users })).toThrow(`invalid login user name(s) ${named}`);
    });

    test.each([
        { name: "two lines", key: `${KEY_B}\n${KEY_A}` },
        { name: "a line with options", key: `no-pty ${KEY_B}` },
        { name: "a type without a body", key: "ssh-ed25519" },
        { name: "not a key", key: "hello world" },
        { name: "a NUL byte", key: `${KEY_B}\0x` },
        { name: "a carriage return inside", key: `${KEY_B}\rssh-rsa AAAA` },
    ])("refuses a public key that is $name", ({ key }) => {
        expect(() => authorizedKeysParameters({ addPublicKey: key })).toThrow("the public key to add is not one OpenSSH public key line");
        expect(() => authorizedKeysParameters({ removePublicKeys: [KEY_A, key] })).toThrow(
            "the public key to remove is not one OpenSSH public key line",
        );
    });

    test("any one-line comment travels in the safe alphabet and decodes back verbatim", () => {
        fc.assert(
            fc.property(
                fc.string({ unit: "grapheme" }).filter((comment) => !/[\r\n\0]/.test(comment) && comment.trim() === comment),
                (comment) => {
                    const line = `${KEY_B.split(" ").slice(0, 2).join(" ")} ${comment}`.trim();
                    const parameters = authorizedKeysParameters({ addPublicKey: line, removePublicKeys: [line] });
                    expect(parameters.addKey).toMatch(/^[A-Za-z0-9+/=]+$/);
                    expect(parameters.removeKeys).toMatch(/^[A-Za-z0-9+/=]+$/);
                    expect(decode(parameters.addKey)).toBe(line);
                },
            ),
        );
    });
});

describe("buildAuthorizedKeysCommand", () => {
    test("is a RunShellScript with Base64 content and parameters enabled", () => {
        const command = buildAuthorizedKeysCommand({ users: ["root", "ecs-user"], addPublicKey: KEY_B, removePublicKeys: [KEY_A] });
        expect(command).toEqual({
            type: "RunShellScript",
            contentEncoding: "Base64",
            commandContent: Buffer.from(AUTHORIZED_KEYS_SCRIPT).toString("base64"),
            enableParameter: true,
            parameters: authorizedKeysParameters({ users: ["root", "ecs-user"], addPublicKey: KEY_B, removePublicKeys: [KEY_A] }),
        });
    });

    test("fits RunCommand's 16 KB with a 4096-bit RSA key replacing another for 20 users", () => {
        const users = Array.from({ length: 20 }, (_, i) => `user-${String(i).padStart(2, "0")}-${"x".repeat(20)}`);
        expect(() => buildAuthorizedKeysCommand({ users, addPublicKey: RSA_4096, removePublicKeys: [RSA_4096] })).not.toThrow();
    });

    test("refuses a change over RunCommand's 16 KB, saying what to do", () => {
        expect(() =>
            buildAuthorizedKeysCommand({ addPublicKey: RSA_4096, removePublicKeys: Array.from({ length: 12 }, () => RSA_4096) }),
        ).toThrow(`over RunCommand's ${MAX_COMMAND_AND_PARAMETERS_BASE64_BYTES}; give fewer users or keys per change`);
    });
});

describe("substituteCloudAssistantParameters (what the agent does)", () => {
    test("replaces {{ name }} verbatim, blanks around the name ignored, names case-insensitive", () => {
        expect(
            substituteCloudAssistantParameters("a='{{users}}' b='{{ AddKey }}' c='{{\n removeKeys\n}}'", {
                users: "root",
                addKey: "QQ==",
                removeKeys: "",
            }),
        ).toBe("a='root' b='QQ==' c=''");
    });

    test("refuses a placeholder without a value", () => {
        expect(() => substituteCloudAssistantParameters("echo {{other}}", { users: "root" })).toThrow(
            "no value for Cloud Assistant parameter {{other}}",
        );
    });
});

test("parseAuthorizedKeysOutput reads the per-user result lines and ignores the rest", () => {
    expect(
        parseAuthorizedKeysOutput(
            "noise\nuser=root added=yes removed=1 file=updated\nuser=ecs-user added=present removed=0 file=unchanged\nuser=x added=maybe removed=0 file=updated\n",
        ),
    ).toEqual([
        { user: "root", added: "yes", removed: 1, file: "updated" },
        { user: "ecs-user", added: "present", removed: 0, file: "unchanged" },
    ]);
});
