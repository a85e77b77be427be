/** The known-script registry and the model effect of the package's authorized_keys script (pure, no HTTP). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authorizedKeysEffect, EXIT_UNKNOWN_USER, Guest, packageKnownScripts, scriptHash } from "../../emulator";

const OLD = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOldOldOldO old";
const NEW = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewNewNewNewNewNewNewNewNewNewNewNewNewNewN new";
const OTHER = 'command="/bin/true",no-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQOther a comment with spaces';
const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("packageKnownScripts", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "kpa-known-scripts-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test("registers the first script found, by the SHA-256 of its text; none found → an empty registry", () => {
        const script = "#!/bin/bash\necho {{users}}\n";
        writeFileSync(join(dir, "authorized-keys.sh"), script);
        const registry = packageKnownScripts([join(dir, "missing.sh"), join(dir, "authorized-keys.sh")]);
        expect([...registry.keys()]).toEqual([scriptHash(script)]);
        expect(packageKnownScripts([join(dir, "missing.sh")]).size).toBe(0);
    });
});

describe("authorizedKeysEffect", () => {
    const effect = authorizedKeysEffect();
    const guestWith = (lines: Record<string, string[]>) => new Guest(Object.keys(lines), lines, true);

    test.each([
        [
            "adds the new key, removes the replaced one, keeps others",
            { root: [OTHER, OLD] },
            { users: "root", addKey: b64(NEW), removeKey: b64(OLD) },
            { root: [OTHER, NEW] },
        ],
        [
            "adds a key once (idempotent), even when it is there with options",
            { root: [`no-pty ${NEW}`] },
            { users: "root", addKey: b64(NEW), removeKey: "" },
            { root: [`no-pty ${NEW}`] },
        ],
        ["removes only (an unbind)", { root: [OLD, OTHER] }, { users: "root", addKey: "", removeKey: b64(OLD) }, { root: [OTHER] }],
        ["never removes the key it adds", { root: [NEW] }, { users: "root", addKey: b64(NEW), removeKey: b64(NEW) }, { root: [NEW] }],
        [
            "every listed user, separated by commas or spaces",
            { root: [], deploy: [OTHER] },
            { users: "root, deploy", addKey: b64(NEW) },
            { root: [NEW], deploy: [OTHER, NEW] },
        ],
    ])("%s", (_, before, parameters, after) => {
        const guest = guestWith(before);
        expect(effect(guest, parameters)).toMatchObject({ exitCode: 0 });
        expect(guest.snapshot()).toEqual(after);
    });

    test("an unknown user fails with its name in the output and changes no user", () => {
        const guest = guestWith({ root: [OLD] });
        const result = effect(guest, { users: "root,ghost", addKey: b64(NEW), removeKey: b64(OLD) });
        expect(result.exitCode).toBe(EXIT_UNKNOWN_USER);
        expect(result.output).toContain("no such user: ghost");
        expect(guest.snapshot()).toEqual({ root: [OLD] });
    });
});
