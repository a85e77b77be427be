/**
 * A real sshd (Debian's openssh-server) on loopback inside a sandbox's mount namespace
 * (tests/online/sandbox.ts), for tests that check which key really logs on. StrictModes is on, so
 * the modes and owners of ~/.ssh count.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

import type { GeneratedKey, Sandbox } from "./sandbox";

const SSHD = "/usr/sbin/sshd";
const ENSURE_SSHD = path.resolve(__dirname, "..", "..", "scripts", "ensure-sshd.sh");
/** Installing openssh-server with apt-get can take minutes on a cold mirror. */
export const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** How long sshd may take to accept connections on a loaded machine (not a race: we poll). */
export const SSHD_READY_DEADLINE_MS = 30 * 1000;
const SSHD_READY_POLL_INTERVAL_MS = 50;

/** Installs openssh-server when missing (scripts/ensure-sshd.sh); throws with what to do when impossible. */
export function ensureSshd(): void {
    const ensure = spawnSync("bash", [ENSURE_SSHD], { encoding: "utf8", timeout: INSTALL_TIMEOUT_MS });
    if (ensure.status !== 0 || !existsSync(SSHD)) {
        throw new Error(
            `${SSHD} is missing and could not be installed (bash scripts/ensure-sshd.sh exited ${String(ensure.status)}): ` +
                `install Debian's openssh-server (apt-get install -y openssh-server).\n${ensure.stderr}`,
        );
    }
}

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
            if (banner.includes("\n")) finish(banner.startsWith("SSH-2.0-"));
        });
        socket.on("error", () => finish(false));
        socket.on("close", () => finish(false));
    });
}

export interface SshdServer {
    port: number;
    /** `ssh user@127.0.0.1 true` with only this key: status 0 when it logged on, 255 when refused. */
    ssh(key: GeneratedKey, user: string): { status: number | null; stderr: string };
    log(): string;
    stop(): Promise<void>;
}

export async function startSshd(sandbox: Sandbox, allowUsers: readonly string[]): Promise<SshdServer> {
    const keyDir = path.join(sandbox.base, "sshd-host");
    mkdirSync(keyDir, { mode: 0o700 });
    const hostKey = path.join(keyDir, "host");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    const port = await freeLoopbackPort();
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
            `AllowUsers ${allowUsers.join(" ")}`,
            "LogLevel VERBOSE",
            "",
        ].join("\n"),
    );
    let log = "";
    const [command, ...args] = sandbox.namespaceArgv([SSHD, "-D", "-e", "-f", config]);
    const sshd: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    sshd.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    sshd.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const stop = async (): Promise<void> => {
        if (sshd.exitCode !== null || sshd.signalCode !== null) return;
        const exited = new Promise((resolve) => sshd.once("exit", resolve));
        sshd.kill("SIGTERM");
        await exited;
    };
    const deadline = Date.now() + SSHD_READY_DEADLINE_MS;
    while (!(await speaksSsh(port))) {
        if (sshd.exitCode !== null || Date.now() > deadline) {
            await stop();
            throw new Error(`sshd did not accept connections on 127.0.0.1:${port} (exit code ${String(sshd.exitCode)}); its log:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, SSHD_READY_POLL_INTERVAL_MS));
    }
    return {
        port,
        log: () => log,
        stop,
        ssh(key, user) {
            const result = spawnSync(
                "ssh",
                [
                    ...["-F", "/dev/null", "-i", key.privateKeyPath, "-p", String(port)],
                    ...["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"],
                    ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20"],
                    `${user}@127.0.0.1`,
                    "true",
                ],
                { encoding: "utf8" },
            );
            if (result.error !== undefined) throw result.error;
            return { status: result.status, stderr: result.stderr };
        },
    };
}
