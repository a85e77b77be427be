/**
 * Online activation end to end (issue 12): the quickstart under the real Pulumi CLI with
 * `activation: "online"`, against an in-process emulator that opts in to running the received script
 * for real (a known-scripts registry whose effect runs it with bash inside a private mount namespace,
 * tests/online/execute.ts and sandbox.ts).
 * A real sshd on loopback reads the same authorized_keys. After `pulumi up` the new key logs on with
 * ssh, the replaced key is refused, and the instance was not rebooted.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

import type { Emulator } from "../../emulator";
import { sandboxKnownScripts } from "../online/execute";
import { ALICE, Sandbox, generateKey, type GeneratedKey } from "../online/sandbox";
import { INSTALL_TIMEOUT_MS, SshdServer, ensureSshd, startSshd } from "../online/sshd-server";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, startEmulatorStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const INSTANCE = "i-e2eonline01";

describeWithCli("online activation under the real Pulumi CLI, proven with a real sshd", ({ binDir }) => {
    let sandbox: Sandbox;
    let sshd: SshdServer;
    let emulator: Emulator;
    let stack: PulumiStack;
    let close = () => Promise.resolve();
    let oldKey: GeneratedKey;
    let newKey: GeneratedKey;

    beforeAll(async () => {
        ensureSshd();
        sandbox = Sandbox.create();
        const keyDir = path.join(sandbox.base, "keys");
        mkdirSync(keyDir, { mode: 0o700 });
        oldKey = generateKey(keyDir, "old", "old@ops");
        newKey = generateKey(keyDir, "new", "new@ops $(touch /tmp/kpa-e2e-pwned) `id`");
        // alice logs on with the old key, as the previous binding's boot left it.
        const sshDir = sandbox.hostPath("/home/alice/.ssh");
        mkdirSync(sshDir, { mode: 0o700 });
        writeFileSync(path.join(sshDir, "authorized_keys"), `# alice's keys\n${oldKey.line}\n`, { mode: 0o600 });
        chownSync(sshDir, ALICE.uid, ALICE.gid);
        chownSync(path.join(sshDir, "authorized_keys"), ALICE.uid, ALICE.gid);
        sshd = await startSshd(sandbox, [ALICE.name]);

        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-online",
            emulator: {
                timeScale: 0.05,
                seed: {
                    keyPairs: [
                        { name: "ops-old", publicKey: oldKey.line },
                        { name: "ops-new", publicKey: newKey.line },
                    ],
                    instances: [
                        {
                            id: INSTANCE,
                            keyPairName: "ops-old",
                            users: ["root", ALICE.name],
                            authorizedKeys: { [ALICE.name]: [oldKey.line] },
                        },
                    ],
                },
                // Opt-in: the emulator runs the package's script (recognised by its SHA-256) for real, in the sandbox.
                knownScripts: sandboxKnownScripts(sandbox),
            },
            config: {
                keyPairName: "ops-new",
                instanceIds: [INSTANCE],
                activation: "online",
                online: { users: [ALICE.name], timeoutSeconds: 30 },
                restart: { pollIntervalSeconds: 0.1 },
            },
        }));
    }, INSTALL_TIMEOUT_MS + E2E_TIMEOUT_MS);

    afterAll(async () => {
        await close();
        await sshd?.stop();
        sandbox?.remove();
    });

    it("before: the old key logs on, the new one is refused", () => {
        expect(sshd.ssh(oldKey, ALICE.name).status).toBe(0);
        expect(sshd.ssh(newKey, ALICE.name)).toMatchObject({
            status: 255,
            stderr: expect.stringContaining("Permission denied (publickey)") as unknown,
        });
    });

    it("after pulumi up: the new key logs on, the replaced key is refused, and the instance was not rebooted", async () => {
        emulator.resetCalls();
        const up = await stack.up();
        expect(up.output).toMatch(/in effect without a restart \(Cloud Assistant\): i-e2eonline01/);

        expect(sshd.ssh(newKey, ALICE.name)).toMatchObject({ status: 0 });
        expect(sshd.ssh(oldKey, ALICE.name)).toMatchObject({
            status: 255,
            stderr: expect.stringContaining("Permission denied (publickey)") as unknown,
        });

        expect(emulator.model.instance(INSTANCE)).toMatchObject({ keyPairName: "ops-new", rebootCount: 0, status: "Running" });
        expect(callsOf(emulator.calls, "RebootInstances")).toEqual([]);
        expect(callsOf(emulator.calls, "RunCommand")).toHaveLength(1);
        const outputs = (await stack.outputs()) as unknown as { onlineActivatedInstanceIds: string[]; restartedInstanceIds: string[] };
        expect(outputs.onlineActivatedInstanceIds).toEqual([INSTANCE]);
        expect(outputs.restartedInstanceIds).toEqual([]);
        // The comment's $(…) and backticks were written, not run; the other line stayed.
        expect(readFileSync(sandbox.hostPath("/home/alice/.ssh/authorized_keys"), "utf8")).toBe(`# alice's keys\n${newKey.line}\n`);
        expect(existsSync("/tmp/kpa-e2e-pwned")).toBe(false);
    });

    it("pulumi destroy: the key's line is removed online, so the new key is refused too, still without a reboot", async () => {
        await stack.destroy();
        expect(sshd.ssh(newKey, ALICE.name).status).toBe(255);
        expect(emulator.model.instance(INSTANCE)).toMatchObject({ keyPairName: undefined, rebootCount: 0 });
    });
});
