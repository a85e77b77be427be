/**
 * A real sshd (Debian's openssh-server) reads the authorized_keys that authorized-keys.sh wrote: key A
 * logs on before the change, and after the script installs key B replacing A, B logs on and A is refused.
 * sshd runs in the sandbox's mount namespace (tests/online/sandbox.ts) so it sees the test user alice and
 * her home (and bob, who has no ~/.ssh yet); it listens on loopback only. StrictModes is on, so the modes and owners the script sets count.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

import { authorizedKeysParameters } from "../../provider/online/script";
import { ALICE, BOB, generateKey, Sandbox, type GeneratedKey } from "./sandbox";

const SSHD = "/usr/sbin/sshd";
const ENSURE_SSHD = path.resolve(__dirname, "..", "..", "scripts", "ensure-sshd.sh");
/** Installing openssh-server with apt-get can take minutes on a cold mirror. */
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** How long sshd may take to accept connections on a loaded 2-core machine (not a race: we poll). */
const SSHD_READY_DEADLINE_MS = 30 * 1000;
const SSHD_READY_POLL_INTERVAL_MS = 50;

let sandbox: Sandbox;
let sshd: ChildProcess | undefined;
let sshdLog = "";
let port: number;
let A: GeneratedKey;
let B: GeneratedKey;

function freeLoopbackPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address() as net.AddressInfo;
            server.close(() => resolve(address.port));
        });
    });
}

/** True once something on the port speaks SSH (sends its identification string). */
function speaksSsh(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let banner = "";
        const finish = (result: boolean): void => {
            socket.destroy();
            resolve(result);
        };
        socket.setTimeout(2000, () => finish(false));
        socket.on("data", (chunk: Buffer) => {
            banner += chunk.toString("latin1");
            if (banner.includes("\n")) {
                finish(banner.startsWith("SSH-2.0-"));
            }
        });
        socket.on("error", () => finish(false));
        socket.on("close", () => finish(false));
    });
}

async function waitForSshd(): Promise<void> {
    const deadline = Date.now() + SSHD_READY_DEADLINE_MS;
    while (!(await speaksSsh(port))) {
        if (sshd?.exitCode !== null || Date.now() > deadline) {
            throw new Error(
                `sshd did not accept connections on 127.0.0.1:${port} (exit code ${String(sshd?.exitCode)}); its log:\n${sshdLog}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, SSHD_READY_POLL_INTERVAL_MS));
    }
}

function sshAs(key: GeneratedKey, user = ALICE.name): { status: number | null; stderr: string } {
    const result = spawnSync(
        "ssh",
        [
            "-F",
            "/dev/null",
            "-i",
            key.privateKeyPath,
            "-p",
            String(port),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=20",
            `${user}@127.0.0.1`,
            "true",
        ],
        { encoding: "utf8" },
    );
    if (result.error !== undefined) {
        throw result.error;
    }
    return { status: result.status, stderr: result.stderr };
}

beforeAll(async () => {
    const ensure = spawnSync("bash", [ENSURE_SSHD], { encoding: "utf8", timeout: INSTALL_TIMEOUT_MS });
    if (ensure.status !== 0 || !existsSync(SSHD)) {
        throw new Error(
            `${SSHD} is missing and could not be installed (bash scripts/ensure-sshd.sh exited ${String(ensure.status)}): ` +
                `install Debian's openssh-server (apt-get install -y openssh-server).\n${ensure.stderr}`,
        );
    }

    sandbox = Sandbox.create();
    const keyDir = path.join(sandbox.base, "keys");
    mkdirSync(keyDir, { mode: 0o700 });
    A = generateKey(keyDir, "a", "old@pulumi");
    B = generateKey(keyDir, "b", "new@pulumi");
    const hostKey = path.join(keyDir, "host");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);

    // alice starts with key A, as a previous binding left it.
    const sshDir = sandbox.hostPath("/home/alice/.ssh");
    mkdirSync(sshDir, { mode: 0o700 });
    writeFileSync(path.join(sshDir, "authorized_keys"), `# alice's keys\n${A.line}\n`, { mode: 0o600 });
    chownSync(sshDir, ALICE.uid, ALICE.gid);
    chownSync(path.join(sshDir, "authorized_keys"), ALICE.uid, ALICE.gid);

    port = await freeLoopbackPort();
    const config = path.join(sandbox.base, "sshd_config");
    writeFileSync(
        config,
        [
            `Port ${port}`,
            "ListenAddress 127.0.0.1",
            `HostKey ${hostKey}`,
            "PidFile none",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "AuthorizedKeysFile .ssh/authorized_keys",
            "StrictModes yes",
            `AllowUsers ${ALICE.name} ${BOB.name}`,
            "LogLevel VERBOSE",
            "",
        ].join("\n"),
    );

    const [command, ...args] = sandbox.namespaceArgv([SSHD, "-D", "-e", "-f", config]);
    sshd = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    sshd.stdout?.on("data", (chunk: Buffer) => (sshdLog += chunk.toString()));
    sshd.stderr?.on("data", (chunk: Buffer) => (sshdLog += chunk.toString()));
    await waitForSshd();
}, INSTALL_TIMEOUT_MS + SSHD_READY_DEADLINE_MS);

afterAll(async () => {
    if (sshd !== undefined && sshd.exitCode === null) {
        const exited = new Promise((resolve) => sshd?.once("exit", resolve));
        sshd.kill("SIGTERM");
        await exited;
    }
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
