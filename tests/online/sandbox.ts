/**
 * A private mount namespace in which `/root`, `/home`, `/etc/passwd` and `/etc/group` are temporary
 * copies, so that the real `authorized-keys.sh` (and a real sshd) run against a real filesystem and real
 * `getent` entries without touching the host. Needs root and `unshare` (util-linux); `/run` is a private
 * tmpfs too, with `/run/sshd` for sshd's privilege separation.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { AUTHORIZED_KEYS_SCRIPT, substituteCloudAssistantParameters } from "../../provider/online/script";

export interface SandboxUser {
    name: string;
    uid: number;
    gid: number;
}

/** Test users added to the sandbox's passwd and group (homes under /home, created, owned by the user). */
export const ALICE: SandboxUser = { name: "alice", uid: 2001, gid: 2001 };
export const BOB: SandboxUser = { name: "bob", uid: 2002, gid: 2002 };

/** Runs "$@" with the sandbox's mounts; $1 is the sandbox directory. */
const ENTER_NAMESPACE = `set -eu
base=$1
shift
mount --bind "$base/root" /root
mount --bind "$base/home" /home
mount --bind "$base/passwd" /etc/passwd
mount --bind "$base/group" /etc/group
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 0755 /run/sshd
exec "$@"`;

export interface GeneratedKey {
    /** The `.pub` line as ssh-keygen wrote it (no newline). */
    line: string;
    type: string;
    body: string;
    privateKeyPath: string;
}

/** A real ed25519 key pair made by ssh-keygen in `dir`. */
export function generateKey(dir: string, name: string, comment: string): GeneratedKey {
    const privateKeyPath = path.join(dir, name);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", privateKeyPath]);
    const line = readFileSync(`${privateKeyPath}.pub`, "utf8").trimEnd();
    const [type, body] = line.split(" ");
    return { line, type, body, privateKeyPath };
}

export class Sandbox {
    private constructor(readonly base: string) {}

    /** A fresh sandbox with ALICE and BOB known to getent; remove() it after the test. */
    static create(): Sandbox {
        const base = mkdtempSync(path.join(tmpdir(), "online-keys-"));
        // sshd's child reads authorized_keys as the user: the mount roots must be traversable.
        chmodSync(base, 0o755);
        mkdirSync(path.join(base, "root"), { mode: 0o700 });
        mkdirSync(path.join(base, "home"), { mode: 0o755 });
        const users = [ALICE, BOB];
        writeFileSync(
            path.join(base, "passwd"),
            readFileSync("/etc/passwd", "utf8") + users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::/home/${u.name}:/bin/bash\n`).join(""),
        );
        writeFileSync(path.join(base, "group"), readFileSync("/etc/group", "utf8") + users.map((u) => `${u.name}:x:${u.gid}:\n`).join(""));
        for (const user of users) {
            const home = path.join(base, "home", user.name);
            mkdirSync(home, { mode: 0o755 });
            chownSync(home, user.uid, user.gid);
        }
        return new Sandbox(base);
    }

    /** The host path of a path seen inside the namespace (under /root or /home). */
    hostPath(namespacePath: string): string {
        if (!/^\/(root|home)(\/|$)/.test(namespacePath)) {
            throw new Error(`${namespacePath} is not under /root or /home`);
        }
        return path.join(this.base, namespacePath);
    }

    /** argv that runs `command` inside a new namespace with the sandbox's mounts. */
    namespaceArgv(command: readonly string[]): string[] {
        return ["unshare", "--mount", "bash", "-c", ENTER_NAMESPACE, "enter-sandbox", this.base, ...command];
    }

    /**
     * Runs authorized-keys.sh inside the namespace, with `parameters` substituted as Cloud Assistant does
     * (null: the text as stored, placeholders and all).
     */
    runScript(parameters: Readonly<Record<string, string>> | null, interpreter = "bash"): SpawnSyncReturns<string> {
        const scriptPath = path.join(this.base, "rendered-authorized-keys.sh");
        const text = parameters === null ? AUTHORIZED_KEYS_SCRIPT : substituteCloudAssistantParameters(AUTHORIZED_KEYS_SCRIPT, parameters);
        writeFileSync(scriptPath, text, { mode: 0o700 });
        const [command, ...args] = this.namespaceArgv([interpreter, scriptPath]);
        const result = spawnSync(command, args, { encoding: "utf8" });
        if (result.error !== undefined) {
            throw result.error;
        }
        if (result.status !== 0 && result.stderr.startsWith("unshare:")) {
            throw new Error(`tests/online need root and a private mount namespace (unshare --mount): ${result.stderr}`);
        }
        return result;
    }

    remove(): void {
        rmSync(this.base, { recursive: true, force: true });
    }
}
