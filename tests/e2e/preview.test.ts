/**
 * The preview and progress under the real Pulumi CLI, against an in-process emulator: the preview
 * of the issue's case states counts and instance ids; a Windows instance fails the preview with
 * `up`'s message; nothing in ECS changes; `up` does not describe twice; a drift check on a stack
 * with no drift still passes; and progress lines arrive while a rolling restart is still running.
 */
import type { Emulator } from "../../emulator";
import { E2E_TIMEOUT_MS, PulumiStack, callsOf, describeWithCli, mutatingCalls, startEmulatorStack } from "./harness";

jest.setTimeout(E2E_TIMEOUT_MS);

const RUNNING = ["i-prevweb1", "i-prevweb2", "i-prevweb3"];
const STOPPED = "i-prevbatch1";
const WINDOWS = "i-prevwin1";
const FOUR = [...RUNNING, STOPPED];

describeWithCli("the preview states the cost (real Pulumi CLI)", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;
    let close = () => Promise.resolve();

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-preview",
            emulator: {
                timeScale: 0.05, // a reboot takes 400 ms
                seed: {
                    keyPairs: [{ name: "ops-2026" }, { name: "legacy-2019" }],
                    instances: [
                        { id: RUNNING[0], name: "web-1" },
                        { id: RUNNING[1], name: "web-2" },
                        { id: RUNNING[2], name: "web-3", keyPairName: "legacy-2019" },
                        { id: STOPPED, name: "batch-1", status: "Stopped" },
                        { id: WINDOWS, name: "win-1", osType: "windows" },
                    ],
                },
            },
            config: { keyPairName: "ops-2026", instanceIds: FOUR, restart: { batchSize: 2, pollIntervalSeconds: 0.1 } },
        }));
    });

    afterAll(() => close());

    it("a preview of four instances states who gets the key, who restarts in how many waves, the stopped one and the replaced key", async () => {
        emulator.resetCalls();
        const preview = await stack.preview();

        expect(preview.output).toMatch(/\+ 2 to create/);
        expect(preview.output).toContain(`: key pair "ops-2026" in cn-hangzhou — 4 instance(s) would get the key: ${FOUR.join(", ")}.`);
        expect(preview.output).toContain(
            `- restarted (Running; graceful reboot, in 2 waves of at most 2 (restart.batchSize)): ${RUNNING.join(", ")}`,
        );
        expect(preview.output).toContain(`- not running: take the key at their next start (not started by this): ${STOPPED}`);
        expect(preview.output).toContain(`- another key pair would be replaced: "legacy-2019" on ${RUNNING[2]}`);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        // ⌈4/100⌉ DescribeInstances and one DescribeKeyPairs.
        expect(emulator.callCounts()).toEqual({ DescribeInstances: 1, DescribeKeyPairs: 1 });
        expect(FOUR.map((id) => emulator.model.instance(id)!.keyPairName)).toEqual([undefined, undefined, "legacy-2019", undefined]);
    });

    it("up describes once before binding: the check's look-up serves the create", async () => {
        emulator.resetCalls();
        const up = await stack.up();

        expect(up.output).toMatch(/KeyPairAttachment fleet-key created|\+ 2 created/);
        const firstAttach = emulator.calls.findIndex((c) => c.action === "AttachKeyPair");
        expect(firstAttach).toBeGreaterThan(0);
        const before = emulator.calls.slice(0, firstAttach);
        expect({
            DescribeInstances: callsOf(before, "DescribeInstances").length,
            DescribeKeyPairs: callsOf(before, "DescribeKeyPairs").length,
        }).toEqual({ DescribeInstances: 1, DescribeKeyPairs: 1 });
        expect(FOUR.map((id) => emulator.model.instance(id)!.keyPairName)).toEqual(FOUR.map(() => "ops-2026"));
    });

    it("`pulumi preview --refresh --expect-no-changes` still exits 0 with no drift, and prints no impact", async () => {
        emulator.resetCalls();
        const preview = await stack.preview(["--refresh", "--expect-no-changes"]);

        expect(preview.code).toBe(0);
        expect(preview.output).not.toContain("would get the key");
        expect(mutatingCalls(emulator.calls)).toEqual([]);
    });

    it("up with its preview: the preview of a removal states the unbind and the password reset; measured describes", async () => {
        await stack.setConfigObject("instanceIds", RUNNING);
        emulator.resetCalls();
        const up = await stack.pulumi(["up", "--yes"], { withConfig: true });

        expect(up.output).toContain(`- unbound: ${STOPPED} — reset their password before password logon (or set passwordOnUnbind)`);
        expect(up.output).toContain(`- already hold the key (nothing to do): ${RUNNING.join(", ")}`);
        expect(emulator.model.instance(STOPPED)!.keyPairName).toBeUndefined();
        // The preview and the update run in separate provider processes: the preview's look-up, then
        // the update's diff look-up, which the update itself reuses.
        const firstDetach = emulator.calls.findIndex((c) => c.action === "DetachKeyPair");
        expect(callsOf(emulator.calls.slice(0, firstDetach), "DescribeInstances").length).toBe(2);
        await stack.setConfigObject("instanceIds", FOUR);
        await stack.up();
    });

    it("a preview that adds a Windows instance fails with the message `up` gives, naming it, and changes nothing", async () => {
        await stack.setConfigObject("instanceIds", [...FOUR, WINDOWS]);
        emulator.resetCalls();
        const preview = await stack.preview([], { allowFailure: true });
        emulator.resetCalls();
        const up = await stack.up([], { allowFailure: true });
        await stack.setConfigObject("instanceIds", FOUR);

        const message =
            'Key pair "ops-2026" cannot be bound: 1 instance(s) cannot use SSH key pairs — ' +
            `${WINDOWS}: DependencyViolation.WindowsInstance is a Windows instance; Windows instances cannot use SSH key pairs. ` +
            "Nothing was changed. Remove these instances from instanceIds and run again.";
        expect(preview.code).not.toBe(0);
        expect(preview.output).toContain(message);
        expect(up.code).not.toBe(0);
        expect(up.output).toContain(message);
        expect(mutatingCalls(emulator.calls)).toEqual([]);
        expect(emulator.model.instance(WINDOWS)!.keyPairName).toBeUndefined();
    });
});

const FLEET = Array.from({ length: 6 }, (_, i) => `i-progress${i + 1}`);

describeWithCli("progress while a rolling restart runs (real Pulumi CLI)", ({ binDir }) => {
    let emulator: Emulator;
    let stack: PulumiStack;
    let close = () => Promise.resolve();

    beforeAll(async () => {
        ({ emulator, stack, close } = await startEmulatorStack(binDir, {
            stackName: "e2e-progress",
            emulator: {
                timeScale: 0.75, // a reboot takes 6 s: three waves take about 18 s
                seed: { keyPairs: [{ name: "ops-2026" }], instances: FLEET.map((id) => ({ id })) },
            },
            config: { keyPairName: "ops-2026", instanceIds: FLEET, restart: { batchSize: 2, pollIntervalSeconds: 0.5 } },
        }));
    });

    afterAll(() => close());

    it("a progress line reaches the CLI's output before the last wave is rebooted", async () => {
        // Each chunk of the CLI's stdout as it streams, with how many reboot calls the emulator had seen then.
        const seen: { text: string; rebootCalls: number }[] = [];
        const up = await stack.up([], {
            onSpawn: (child) =>
                child.stdout?.on("data", (chunk: Buffer) =>
                    seen.push({ text: chunk.toString("utf8"), rebootCalls: callsOf(emulator.calls, "RebootInstances").length }),
                ),
        });

        expect(callsOf(emulator.calls, "RebootInstances").map((c) => c.instanceIds.length)).toEqual([2, 2, 2]);
        const progress = seen.filter((s) => /restart wave \d of 3/.test(s.text));
        // Arrived while the restart was still running: before the third wave's RebootInstances.
        expect(progress.filter((s) => s.rebootCalls < 3).map((s) => s.text.match(/restart wave \d of 3 \w+/)?.[0])).toContain(
            "restart wave 1 of 3 started",
        );
        expect(up.output).toMatch(/created: 6 instance\(s\) hold key pair "ops-2026"; restarted: /);
    });
});
