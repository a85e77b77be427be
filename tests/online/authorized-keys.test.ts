/**
 * The real authorized-keys.sh, run by bash as root on a real filesystem: a private mount namespace with
 * temporary /root and /home and a passwd/group copy that knows the test users (tests/online/sandbox.ts).
 * Every file is compared byte for byte.
 */
import {
    chownSync,
    existsSync,
    lstatSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    statSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { authorizedKeysParameters, type AuthorizedKeysChange } from "../../provider/online/script";
import { ALICE, generateKey, Sandbox, type GeneratedKey } from "./sandbox";

const ROOT_KEYS = "/root/.ssh/authorized_keys";
const ALICE_SSH = "/home/alice/.ssh";
const ALICE_KEYS = `${ALICE_SSH}/authorized_keys`;

let keyDir: string;
let A: GeneratedKey; // the key pair a binding replaces
let B: GeneratedKey; // the key pair being bound
let C: GeneratedKey; // someone else's key that must stay

beforeAll(() => {
    keyDir = mkdtempSync(path.join(tmpdir(), "online-keygen-"));
    A = generateKey(keyDir, "a", "old@pulumi");
    B = generateKey(keyDir, "b", "new@pulumi");
    C = generateKey(keyDir, "c", "ops@laptop");
});

afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

let sandbox: Sandbox;
beforeEach(() => {
    sandbox = Sandbox.create();
});
afterEach(() => sandbox.remove());

/** Writes `content` as a user's authorized_keys (creating ~/.ssh 0700), owned by that user. */
function writeKeys(namespacePath: string, content: string, owner = { uid: 0, gid: 0 }, mode = 0o600): void {
    const file = sandbox.hostPath(namespacePath);
    mkdirSync(path.dirname(file), { mode: 0o700, recursive: true });
    writeFileSync(file, content, { mode });
    for (const target of [path.dirname(file), file]) {
        chownSync(target, owner.uid, owner.gid);
    }
}

function readKeys(namespacePath: string): string | undefined {
    const file = sandbox.hostPath(namespacePath);
    return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

function run(change: AuthorizedKeysChange): { status: number | null; stdout: string; stderr: string } {
    const { status, stdout, stderr } = sandbox.runScript(authorizedKeysParameters(change));
    return { status, stdout, stderr };
}

interface FileCase {
    name: string;
    /** root's authorized_keys before the run; undefined: absent (~/.ssh exists). */
    before: () => string | undefined;
    change: () => AuthorizedKeysChange;
    after: () => string | undefined;
    result: string;
}

const cases: FileCase[] = [
    {
        name: "new key added after the existing lines",
        before: () => `${A.line}\n`,
        change: () => ({ addPublicKey: B.line }),
        after: () => `${A.line}\n${B.line}\n`,
        result: "added=yes removed=0 file=updated",
    },
    {
        name: "replaced key removed, new key added",
        before: () => `${A.line}\n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [A.line] }),
        after: () => `${B.line}\n`,
        result: "added=yes removed=1 file=updated",
    },
    {
        name: "comments, blank lines and other keys untouched; the removed key matched by body whatever its comment",
        before: () =>
            `# managed by hand\n\n   \n${C.line}\n#${A.line}\n${A.type} ${A.body} another comment\n  ${C.type}\t${C.body}   spaced  comment \n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [A.line] }),
        after: () => `# managed by hand\n\n   \n${C.line}\n#${A.line}\n  ${C.type}\t${C.body}   spaced  comment \n${B.line}\n`,
        result: "added=yes removed=1 file=updated",
    },
    {
        name: "removed key's line has options with quoted blanks and escaped quotes",
        before: () => `no-pty,command="echo \\"a b\\"",from="10.0.0.1" ${A.line}\n${C.line}\n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [A.line] }),
        after: () => `${C.line}\n${B.line}\n`,
        result: "added=yes removed=1 file=updated",
    },
    {
        name: "another key's options preserved",
        before: () => `restrict,command="/usr/bin/backup --to \\"x y\\"",environment="A=1" ${C.line}\n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [A.line] }),
        after: () => `restrict,command="/usr/bin/backup --to \\"x y\\"",environment="A=1" ${C.line}\n${B.line}\n`,
        result: "added=yes removed=0 file=updated",
    },
    {
        name: "key to add already present with options and another comment: file unchanged",
        before: () => `no-agent-forwarding ${B.type} ${B.body} laptop\n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [A.line] }),
        after: () => `no-agent-forwarding ${B.type} ${B.body} laptop\n`,
        result: "added=present removed=0 file=unchanged",
    },
    {
        name: "unbind removes the key's line only",
        before: () => `${A.line}\n${B.line}\n${C.line}\n`,
        change: () => ({ removePublicKeys: [B.line] }),
        after: () => `${A.line}\n${C.line}\n`,
        result: "added=none removed=1 file=updated",
    },
    {
        name: "unbind without an authorized_keys creates nothing",
        before: () => undefined,
        change: () => ({ removePublicKeys: [B.line] }),
        after: () => undefined,
        result: "added=none removed=0 file=unchanged",
    },
    {
        name: "every line of a removed key goes",
        before: () => `${A.line}\n${C.line}\nrestrict ${A.line}\n`,
        change: () => ({ removePublicKeys: [A.line] }),
        after: () => `${C.line}\n`,
        result: "added=none removed=2 file=updated",
    },
    {
        name: "a last line without a newline is kept and terminated",
        before: () => `${A.line}`,
        change: () => ({ addPublicKey: B.line }),
        after: () => `${A.line}\n${B.line}\n`,
        result: "added=yes removed=0 file=updated",
    },
    {
        name: "CRLF lines: the removed key's line goes, the others keep their CR",
        before: () => `${A.line}\r\n${C.line}\r\n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [A.line] }),
        after: () => `${C.line}\r\n${B.line}\n`,
        result: "added=yes removed=1 file=updated",
    },
    {
        name: "a key both to add and to remove is kept",
        before: () => `${B.line}\n`,
        change: () => ({ addPublicKey: B.line, removePublicKeys: [B.line] }),
        after: () => `${B.line}\n`,
        result: "added=present removed=0 file=unchanged",
    },
    {
        name: "missing authorized_keys created; a UTF-8 comment installed verbatim",
        before: () => undefined,
        change: () => ({ addPublicKey: `${B.type} ${B.body} clé ✓ 鍵` }),
        after: () => `${B.type} ${B.body} clé ✓ 鍵\n`,
        result: "added=yes removed=0 file=created",
    },
];

describe("authorized-keys.sh on a real filesystem", () => {
    test.each(cases)("$name", ({ before, change, after, result }) => {
        const content = before();
        if (content === undefined) {
            mkdirSync(path.dirname(sandbox.hostPath(ROOT_KEYS)), { mode: 0o700 });
        } else {
            writeKeys(ROOT_KEYS, content);
        }

        const { status, stdout, stderr } = run(change());

        expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
        expect(stdout).toBe(`user=root ${result}\n`);
        expect(readKeys(ROOT_KEYS)).toBe(after());
    });

    test("a re-run is idempotent: the file is not rewritten (same bytes, inode and mtime)", () => {
        writeKeys(ROOT_KEYS, `# keep\n${A.line}\n${C.line}\n`);
        const change = { users: ["root", "alice"], addPublicKey: B.line, removePublicKeys: [A.line] };
        expect(run(change)).toEqual({
            status: 0,
            stdout: "user=root added=yes removed=1 file=updated\nuser=alice added=yes removed=0 file=created\n",
            stderr: "",
        });
        const first = { root: readKeys(ROOT_KEYS), alice: readKeys(ALICE_KEYS) };
        const firstStat = statSync(sandbox.hostPath(ROOT_KEYS));

        expect(run(change)).toEqual({
            status: 0,
            stdout: "user=root added=present removed=0 file=unchanged\nuser=alice added=present removed=0 file=unchanged\n",
            stderr: "",
        });
        expect({ root: readKeys(ROOT_KEYS), alice: readKeys(ALICE_KEYS) }).toEqual(first);
        const secondStat = statSync(sandbox.hostPath(ROOT_KEYS));
        expect({ ino: secondStat.ino, mtimeMs: secondStat.mtimeMs }).toEqual({ ino: firstStat.ino, mtimeMs: firstStat.mtimeMs });
    });

    test("a missing ~/.ssh is created 0700 and authorized_keys 0600, both owned by the user", () => {
        expect(existsSync(sandbox.hostPath(ALICE_SSH))).toBe(false);

        expect(run({ users: ["alice"], addPublicKey: B.line }).status).toBe(0);

        const dir = statSync(sandbox.hostPath(ALICE_SSH));
        const file = statSync(sandbox.hostPath(ALICE_KEYS));
        expect({ mode: dir.mode & 0o7777, uid: dir.uid, gid: dir.gid, isDirectory: dir.isDirectory() }).toEqual({
            mode: 0o700,
            uid: ALICE.uid,
            gid: ALICE.gid,
            isDirectory: true,
        });
        expect({ mode: file.mode & 0o7777, uid: file.uid, gid: file.gid }).toEqual({ mode: 0o600, uid: ALICE.uid, gid: ALICE.gid });
        expect(readKeys(ALICE_KEYS)).toBe(`${B.line}\n`);
    });

    test("an existing file keeps its mode and owner, and no temporary file is left in ~/.ssh", () => {
        writeKeys(ALICE_KEYS, `${A.line}\n`, ALICE, 0o644);

        expect(run({ users: ["alice"], addPublicKey: B.line, removePublicKeys: [A.line] }).status).toBe(0);

        const file = statSync(sandbox.hostPath(ALICE_KEYS));
        expect({ mode: file.mode & 0o7777, uid: file.uid, gid: file.gid }).toEqual({ mode: 0o644, uid: ALICE.uid, gid: ALICE.gid });
        expect(readdirSync(sandbox.hostPath(ALICE_SSH))).toEqual(["authorized_keys"]);
    });

    test("an unknown user is refused by name and nothing changes for any user", () => {
        const before = `# root's keys\n${A.line}\n`;
        writeKeys(ROOT_KEYS, before);

        const { status, stdout, stderr } = run({
            users: ["root", "nobody-here", "alice"],
            addPublicKey: B.line,
            removePublicKeys: [A.line],
        });

        expect({ status, stdout }).toEqual({ status: 2, stdout: "" });
        expect(stderr).toBe("authorized-keys: user nobody-here does not exist on this instance; nothing was changed\n");
        expect(readKeys(ROOT_KEYS)).toBe(before);
        expect(existsSync(sandbox.hostPath(ALICE_SSH))).toBe(false);
    });

    test("a key whose comment holds $(…), backticks and quotes is installed verbatim and runs nothing", () => {
        const markers = ["pwned-dollar", "pwned-backtick", "pwned-semicolon", "pwned-quote"].map((name) => path.join(sandbox.base, name));
        const comment = `$(touch ${markers[0]}) \`touch ${markers[1]}\`; touch ${markers[2]} "double" 'single' '; touch ${markers[3]}; ' \\ {{users}}`;
        const hostile = `${B.type} ${B.body} ${comment}`;
        writeKeys(ROOT_KEYS, `${A.type} ${A.body} $(touch ${markers[0]}) 'x'\n`);

        const { status, stdout, stderr } = run({
            users: ["root", "alice"],
            addPublicKey: hostile,
            removePublicKeys: [`${A.type} ${A.body} \`touch ${markers[1]}\``],
        });

        expect({ status, stdout, stderr }).toEqual({
            status: 0,
            stdout: "user=root added=yes removed=1 file=updated\nuser=alice added=yes removed=0 file=created\n",
            stderr: "",
        });
        expect(readKeys(ROOT_KEYS)).toBe(`${hostile}\n`);
        expect(readKeys(ALICE_KEYS)).toBe(`${hostile}\n`);
        expect(markers.filter((marker) => existsSync(marker))).toEqual([]);
    });

    test("started by sh (dash), it re-runs itself with bash; a user listed twice is handled once", () => {
        writeKeys(ROOT_KEYS, `${A.line}\n`);

        const { status, stdout, stderr } = sandbox.runScript(
            authorizedKeysParameters({ users: ["root", "root"], addPublicKey: B.line, removePublicKeys: [A.line] }),
            "/bin/sh",
        );

        expect({ status, stdout, stderr }).toEqual({ status: 0, stdout: "user=root added=yes removed=1 file=updated\n", stderr: "" });
        expect(readKeys(ROOT_KEYS)).toBe(`${B.line}\n`);
    });

    test("a symbolic link as authorized_keys is refused and neither the link nor its target changes", () => {
        const secret = path.join(sandbox.base, "root", "secret");
        writeFileSync(secret, "not yours\n");
        mkdirSync(path.dirname(sandbox.hostPath(ROOT_KEYS)), { mode: 0o700 });
        symlinkSync("../secret", sandbox.hostPath(ROOT_KEYS));

        const { status, stderr } = run({ addPublicKey: B.line });

        expect(status).toBe(2);
        expect(stderr).toContain("/root/.ssh/authorized_keys of user root is not a regular file");
        expect(lstatSync(sandbox.hostPath(ROOT_KEYS)).isSymbolicLink()).toBe(true);
        expect(readFileSync(secret, "utf8")).toBe("not yours\n");
    });
});

describe("authorized-keys.sh refuses values outside its alphabet even when the sender does not", () => {
    const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
    const refusals: { name: string; parameters: () => Record<string, string>; reason: string }[] = [
        {
            name: "a user name with a shell metacharacter",
            parameters: () => ({ users: `root;touch ${sandbox.base}/pwned`, addKey: b64(B.line), removeKeys: "" }),
            reason: "users must be user names",
        },
        {
            name: "a user name starting with a hyphen",
            parameters: () => ({ users: "-x", addKey: b64(B.line), removeKeys: "" }),
            reason: "invalid user name '-x'",
        },
        {
            name: "an empty user in the list",
            parameters: () => ({ users: "root,,alice", addKey: b64(B.line), removeKeys: "" }),
            reason: "invalid user name ''",
        },
        {
            name: "addKey outside Base64",
            parameters: () => ({ users: "root", addKey: "$(id)", removeKeys: "" }),
            reason: "addKey must be Base64",
        },
        {
            name: "addKey encoding two lines",
            parameters: () => ({ users: "root", addKey: b64(`${B.line}\n${C.line}`), removeKeys: "" }),
            reason: "addKey must be the Base64 of exactly one line",
        },
        {
            name: "addKey encoding a trailing newline",
            parameters: () => ({ users: "root", addKey: b64(`${B.line}\n`), removeKeys: "" }),
            reason: "addKey must be the Base64 of exactly one line",
        },
        {
            name: "addKey that is not a public key",
            parameters: () => ({ users: "root", addKey: b64("hello world"), removeKeys: "" }),
            reason: "addKey is not a public key line",
        },
        {
            name: "addKey with options",
            parameters: () => ({ users: "root", addKey: b64(`no-pty ${B.line}`), removeKeys: "" }),
            reason: "addKey is not a public key line",
        },
        {
            name: "removeKeys outside Base64",
            parameters: () => ({ users: "root", addKey: "", removeKeys: `${b64(A.line)};` }),
            reason: "removeKeys must be Base64 values",
        },
        {
            name: "a removeKeys value that is not Base64",
            parameters: () => ({ users: "root", addKey: "", removeKeys: "abc" }),
            reason: "a removeKeys value is not valid Base64",
        },
    ];

    test.each(refusals)("$name", ({ parameters, reason }) => {
        const before = `${A.line}\n`;
        writeKeys(ROOT_KEYS, before);

        const { status, stdout, stderr } = sandbox.runScript(parameters());

        expect({ status, stdout }).toEqual({ status: 2, stdout: "" });
        expect(stderr).toContain(reason);
        expect(readKeys(ROOT_KEYS)).toBe(before);
        expect(existsSync(path.join(sandbox.base, "pwned"))).toBe(false);
    });

    test("the script as stored (placeholders not substituted) refuses to run", () => {
        writeKeys(ROOT_KEYS, `${A.line}\n`);
        const { status, stderr } = sandbox.runScript(null);
        expect(status).toBe(2);
        expect(stderr).toContain("users must be user names");
        expect(readKeys(ROOT_KEYS)).toBe(`${A.line}\n`);
    });
});
