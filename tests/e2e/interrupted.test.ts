/**
 * Scenario 9: `pulumi up` killed with SIGKILL while it waits for a rolling restart, then
 * `pulumi refresh` and `pulumi up` converge: every instance bound, none restarted more than once more.
 *
 * What the CLI (v3.248.0) needs after a SIGKILL: the checkpoint still holds the create as a pending
 * operation (`pending_operations: [{type: "creating"}]`), and the resource itself is not in the state.
 * See the assertions below and README (Tests) for how refresh and up handle it.
 */
import type { Emulator } from "../../emulator";
import type { ChildProcess } from "node:child_process";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, descendantPids, describeWithCli, killGroup, startEmulatorStack, waitFor } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const FLEET = ["i-killweb0001", "i-killweb0002", "i-killweb0003"];

describeWithCli("an up interrupted by SIGKILL during restarts", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;
    let killed: ChildProcess | undefined;
    let orphans: number[] = [];

    let close = () => Promise.resolve();

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-interrupted",
            emulator: {
                timeScale: 0.25, // a reboot takes 2 s: slow enough to kill the CLI in the middle of a rolling restart
                seed: { keyPairs: [{ name: "ops-2026" }], instances: FLEET.map((id, i) => ({ id, name: `web-${i + 1}` })) },
            },
            config: { keyPairName: "ops-2026", instanceIds: FLEET, restart: { batchSize: 1, pollIntervalSeconds: 0.1 } },
        }));
    });

    afterAll(async () => {
        // The plugins of the killed CLI (language host, program, dynamic provider) were orphaned: end them.
        if (killed) killGroup(killed, "SIGKILL");
        for (const pid of orphans) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        await close();
    });

    it("9. refresh and up converge after the CLI was killed mid-restart", async () => {
        let child: ChildProcess | undefined;
        let finished = false;
        const run = stack.up([], { allowFailure: true, onSpawn: (c) => (child = c) }).finally(() => (finished = true));
        await waitFor(() => finished || callsOf(emulator.calls, "RebootInstances").length >= 1, 60_000, "the first restart wave");
        expect(finished).toBe(false);
        orphans = descendantPids(child!.pid!);
        child!.kill("SIGKILL"); // the CLI only, as `kill -9 <pid>` would
        killed = child;
        const interrupted = await run;
        expect(interrupted.signal).toBe("SIGKILL");
        // Bound everywhere; the rolling restart had begun.
        for (const id of FLEET) expect(emulator.model.instance(id)!.keyPairName).toBe("ops-2026");

        // What the CLI leaves behind: the lock of the dead process, and the create as a pending operation
        // (the resource itself is not in the state: the engine never heard back from create).
        const state = await stack.exportState();
        expect((state.deployment.pending_operations ?? []).map((op) => op.type)).toEqual(["creating"]);
        expect((state.deployment.resources ?? []).some((r) => r.type.endsWith(":KeyPairAttachment"))).toBe(false);
        const locked = await stack.refresh([], { allowFailure: true });
        expect(locked.code).not.toBe(0);
        expect(locked.output).toMatch(/the stack is currently locked/);

        // 1. `pulumi cancel` removes the dead process's lock (file backend).
        await stack.pulumi(["cancel", "--yes"]);
        // 2. A non-interactive refresh keeps pending creates ("needs to be run interactively");
        //    --clear-pending-creates drops it. A dynamic resource cannot be imported, so dropping it
        //    and letting `up` create again is the way: create is idempotent.
        const refresh = await stack.refresh(["--clear-pending-creates"]);
        expect(refresh.code).toBe(0);
        expect((await stack.exportState()).deployment.pending_operations ?? []).toEqual([]);

        // The orphaned dynamic provider finished its rolling restart on its own; let it settle.
        await waitFor(() => FLEET.every((id) => emulator.model.instance(id)!.status === "Running"), 30_000, "the fleet to settle");
        const rebootsBefore = FLEET.map((id) => emulator.model.instance(id)!.rebootCount);
        emulator.resetCalls();

        // 3. `pulumi up` converges.
        const up = await stack.up();
        expect(up.output).not.toMatch(/pending operations/);
        for (const id of FLEET) expect(emulator.model.instance(id)!.keyPairName).toBe("ops-2026");
        const rebootsAfter = FLEET.map((id) => emulator.model.instance(id)!.rebootCount);
        rebootsAfter.forEach((after, i) => expect(after - rebootsBefore[i]).toBeLessThanOrEqual(1));
        rebootsAfter.forEach((after) => expect(after).toBeLessThanOrEqual(2));
        const outputs = await stack.outputs();
        expect([...outputs.boundInstanceIds].sort()).toEqual(FLEET);
        expect((await stack.preview(["--expect-no-changes"])).code).toBe(0);
        await stack.destroy();
        for (const id of FLEET) expect(emulator.model.instance(id)!.keyPairName).toBeUndefined();
    });
});
