/**
 * A real sshd (Debian's openssh-server) reads the authorized_keys that authorized-keys.sh wrote: key A
 * logs on before the change, and after the script installs key B replacing A, B logs on and A is refused.
 * sshd runs in the sandbox's mount namespace (tests/online/sandbox.ts) so it sees the test user alice and
 * her home (and bob, who has no ~/.ssh yet); it listens on loopback only. StrictModes is on, so the modes and owners the script sets count.
 */
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

import { authorizedKeysParameters } from "../../provider/online/script";
import { ALICE, BOB, generateKey, Sandbox, type GeneratedKey } from "./sandbox";
import { INSTALL_TIMEOUT_MS, SSHD_READY_DEADLINE_MS, ensureSshd, startSshd, type SshdServer } from "./sshd-server";

let sandbox: Sandbox;
let sshd: SshdServer | undefined;
let A: GeneratedKey;
let B: GeneratedKey;

const sshAs = (key: GeneratedKey, user = ALICE.name) => sshd!.ssh(key, user);

beforeAll(async () => {
    ensureSshd();
    sandbox = Sandbox.create();
    const keyDir = path.join(sandbox.base, "keys");
    mkdirSync(keyDir, { mode: 0o700 });
    A = generateKey(keyDir, "a", "old@pulumi");
    B = generateKey(keyDir, "b", "new@pulumi");

    // alice starts with key A, as a previous binding left it.
    const sshDir = sandbox.hostPath("/home/alice/.ssh");
    mkdirSync(sshDir, { mode: 0o700 });
    writeFileSync(path.join(sshDir, "authorized_keys"), `# alice's keys\n${A.line}\n`, { mode: 0o600 });
    chownSync(sshDir, ALICE.uid, ALICE.gid);
    chownSync(path.join(sshDir, "authorized_keys"), ALICE.uid, ALICE.gid);

    sshd = await startSshd(sandbox, [ALICE.name, BOB.name]);
}, INSTALL_TIMEOUT_MS + SSHD_READY_DEADLINE_MS);

afterAll(async () => {
    await sshd?.stop();
    sandbox?.remove();
});

test("before the change key A logs on and key B is refused", () => {
    expect(sshAs(A).status).toBe(0);
    const refused = sshAs(B);
    expect(refused.status).toBe(255);
    expect(refused.stderr).toContain("Permission denied (publickey)");
});

test("after authorized-keys.sh installs B replacing A, B logs on and A is refused", () => {
    const { status, stdout, stderr } = sandbox.runScript(
        authorizedKeysParameters({ users: [ALICE.name], addPublicKey: B.line, removePublicKeys: [A.line] }),
    );
    expect({ status, stdout, stderr }).toEqual({ status: 0, stdout: "user=alice added=yes removed=1 file=updated\n", stderr: "" });

    expect(sshAs(B)).toEqual({ status: 0, stderr: expect.not.stringContaining("Permission denied") as unknown });
    const refused = sshAs(A);
    expect(refused.status).toBe(255);
    expect(refused.stderr).toContain("Permission denied (publickey)");
});

test("for a user without ~/.ssh, the directory and file the script creates satisfy sshd's StrictModes", () => {
    expect(sshAs(B, BOB.name).status).toBe(255);

    const { status, stdout, stderr } = sandbox.runScript(authorizedKeysParameters({ users: [BOB.name], addPublicKey: B.line }));
    expect({ status, stdout, stderr }).toEqual({ status: 0, stdout: "user=bob added=yes removed=0 file=created\n", stderr: "" });

    expect(sshAs(B, BOB.name).status).toBe(0);
});
