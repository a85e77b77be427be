/**
 * No endless waits: every SDK call has a connect and a read timeout, and restart waits honour
 * `restart.timeoutSeconds`. A server that accepts connections and never answers must produce an
 * error within the timeout, naming the action.
 */
import { createServer, Server, Socket } from "node:net";
import { CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, SdkEcsGateway } from "../../provider/ecs/gateway";
import {
    REGION,
    expectStateMatches,
    inputs,
    quickRetry,
    settingsFor,
    settle,
    snapshot,
    startRig,
    steppingClock,
    wireLifecycle,
    recordedOutputs,
    eventually,
} from "./harness";

/** Accepts TCP connections and reads the requests, but never writes a byte back. */
async function silentServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    let accepted = 0;
    const server: Server = createServer((socket) => {
        accepted += 1;
        sockets.add(socket);
        socket.on("data", () => undefined);
        socket.on("error", () => undefined);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    return {
        url: `http://127.0.0.1:${port}`,
        connections: () => accepted,
        close: () => {
            for (const socket of sockets) socket.destroy();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

test("the production gateway sets a 5 s connect and a 30 s read timeout on every call", () => {
    expect([CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS]).toEqual([5_000, 30_000]);
    // Private, but this is the one object every SDK call of the gateway is given.
    const runtime = (
        new SdkEcsGateway(settingsFor("http://127.0.0.1:9")) as unknown as {
            runtime: { connectTimeout: number; readTimeout: number; autoretry: boolean };
        }
    ).runtime;
    expect(runtime).toMatchObject({ connectTimeout: CONNECT_TIMEOUT_MS, readTimeout: READ_TIMEOUT_MS, autoretry: false });
});

// No wall-clock upper bound here: a loaded machine may be slow, not wrong. That each call ends is
// what the read timeout guarantees (checked above); what is counted is that every hook gives up
// after the attempt cap — a request held by the server for each attempt, and no more.
test("a server that accepts the connection and never answers: every hook fails after attempts × read timeout, naming the action", async () => {
    const silent = await silentServer();
    const readTimeoutMs = 300;
    const maxAttempts = 3;
    const wiring = wireLifecycle(settingsFor(silent.url), {
        retry: { maxAttempts },
        timeouts: { connectTimeoutMs: 300, readTimeoutMs },
    });
    try {
        const { hooks } = wiring;
        const failure = (run: Promise<unknown>) =>
            run.then(
                () => undefined,
                (e: unknown) => e as Error,
            );
        const connectionsFor = async (run: Promise<unknown>) => {
            const before = silent.connections();
            const started = Date.now();
            const error = await failure(run);
            return { error, connections: silent.connections() - before, elapsedMs: Date.now() - started };
        };

        // Read asks DescribeKeyPairs and DescribeInstances together and fails naming the key pair's
        // read (it decides whether the resource exists); both use their attempts, and no more.
        const recorded = recordedOutputs({ keyPairName: "ops", instanceIds: ["i-a"] });
        const readBefore = silent.connections();
        const read = await connectionsFor(hooks.read("kpa-x", recorded));
        expect(read.error?.message).toMatch(/ECS DescribeKeyPairs/);
        // The call really waited for the read timeout before giving up.
        expect(read.elapsedMs).toBeGreaterThanOrEqual(readTimeoutMs);
        await eventually(() => silent.connections() - readBefore >= 2 * maxAttempts, "both reads of read used their attempts");
        expect(silent.connections() - readBefore).toBe(2 * maxAttempts);

        // Delete sends one action, so its connections are all its own.

        const del = await connectionsFor(hooks.delete("kpa-x", recorded));
        expect(del.error?.message).toMatch(/ECS DescribeInstances for i-a failed/);
        expect(del.connections).toBe(maxAttempts);

        // Create asks DescribeInstances and DescribeKeyPairs together and fails with the first to give
        // up; the other finishes its attempts after that.
        const before = silent.connections();
        const create = await failure(hooks.create(inputs("ops", ["i-a"])));
        expect(create?.message).toMatch(/ECS (DescribeInstances|DescribeKeyPairs)/);
        expect(create?.message).toMatch(/timeout|timed out/i);
        await eventually(() => silent.connections() - before >= 2 * maxAttempts, "both reads of create used their attempts");
        expect(silent.connections() - before).toBe(2 * maxAttempts);
    } finally {
        await silent.close();
        await wiring.dispose();
    }
});

test("an endpoint that never accepts the connection: fails after its attempts, naming the action", async () => {
    // 10.255.255.1 is not routed: the SYN goes unanswered (or the network says unreachable at once).
    // Each attempt ends at the 300 ms connect timeout at the latest (the SDK's own timer).
    const gateway = new SdkEcsGateway(settingsFor("http://10.255.255.1:80"), {
        retry: quickRetry({ maxAttempts: 2 }),
        timeouts: { connectTimeoutMs: 300, readTimeoutMs: 300 },
    });
    const error = await gateway.describeInstances(REGION, ["i-a"]).then(
        () => undefined,
        (e: Error) => e,
    );
    expect(error?.message).toMatch(/ECS DescribeInstances for i-a failed/);
});

test("waiting out a transitional state honours restart.timeoutSeconds: a clear error naming the instance, nothing changed", async () => {
    // The provider runs on a stepping clock, so the wait is measured exactly and costs no real time;
    // the emulator holds i-stuck in Starting whatever the time.
    const clock = steppingClock();
    const rig = await startRig({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-a" }, { id: "i-stuck" }] }, { clock });
    try {
        rig.emulator.model.setStatus("i-stuck", "Starting");
        const before = snapshot(rig.emulator);
        const timeoutSeconds = 0.5;
        const pollIntervalSeconds = 0.02;
        const result = await settle(
            rig.hooks.create(inputs("ops", ["i-a", "i-stuck"], { restart: { timeoutSeconds, pollIntervalSeconds } })),
        );

        expect(result.error?.message).toMatch(
            /Timed out after 0.5 s waiting for instances to leave a transitional state: i-stuck \(Starting\)\. Nothing was changed/,
        );
        // It waited the whole timeout, and not past it: the last sleep is cut to the deadline (what is
        // over is the coalescing windows of its DescribeInstances calls, 2 ms each).
        expect(clock.elapsedMs()).toBeGreaterThanOrEqual(timeoutSeconds * 1000);
        expect(clock.elapsedMs()).toBeLessThanOrEqual(timeoutSeconds * 1000 + 10);
        expectStateMatches(rig.emulator, before, result, { touched: ["i-stuck"] });
    } finally {
        await rig.close();
    }
});
