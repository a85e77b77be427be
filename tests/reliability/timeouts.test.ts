/**
 * No endless waits: every SDK call has a connect and a read timeout, and restart waits honour
 * `restart.timeoutSeconds`. A server that accepts connections and never answers must produce an
 * error within the timeout, naming the action.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createServer, Server, Socket } from "node:net";
import { FileRestartJournal } from "../../provider/journal";
import { CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, SdkEcsGateway } from "../../provider/ecs/gateway";
import { createLifecycle } from "../../provider/lifecycle";
import { realClock } from "../../provider/clock";
import { RestartHistory } from "../../provider/restart";
import { REGION, expectStateMatches, inputs, quickRetry, settingsFor, settle, snapshot, startRig } from "./harness";

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

test("a server that accepts the connection and never answers: every hook fails within attempts × read timeout, naming the action", async () => {
    const silent = await silentServer();
    try {
        const readTimeoutMs = 300;
        const maxAttempts = 3;
        const gateway = new SdkEcsGateway(settingsFor(silent.url), quickRetry({ maxAttempts }), { connectTimeoutMs: 300, readTimeoutMs });
        const logs: string[] = [];
        const hooks = createLifecycle(() => ({
            settings: settingsFor(silent.url),
            gateway,
            clock: realClock,
            restartHistory: new RestartHistory(),
            journal: new FileRestartJournal(fs.mkdtempSync(path.join(os.tmpdir(), "kpa-journal-"))),
            log: (l) => logs.push(l),
        }));
        const bound = maxAttempts * (readTimeoutMs + 100) + 500;
        const timed = async (run: Promise<unknown>) => {
            const started = Date.now();
            const error = await run.then(
                () => undefined,
                (e: unknown) => e,
            );
            return { error: error as Error | undefined, elapsedMs: Date.now() - started };
        };

        const create = await timed(hooks.create(inputs("ops", ["i-a"])));
        expect(create.error?.message).toMatch(/ECS (DescribeInstances|DescribeKeyPairs)/);
        expect(create.error?.message).toMatch(/timeout|timed out/i);
        expect(create.elapsedMs).toBeGreaterThanOrEqual(readTimeoutMs);
        expect(create.elapsedMs).toBeLessThan(bound);

        const read = await timed(hooks.read("kpa-x", { keyPairName: "ops", instanceIds: ["i-a"], region: REGION } as any));
        expect(read.error?.message).toMatch(/ECS DescribeKeyPairs/);
        expect(read.elapsedMs).toBeLessThan(bound);

        const del = await timed(hooks.delete("kpa-x", { keyPairName: "ops", instanceIds: ["i-a"], region: REGION } as any));
        expect(del.error?.message).toMatch(/ECS DescribeInstances for i-a failed/);
        expect(del.elapsedMs).toBeLessThan(bound);
        // Each attempt was a real request that the server held.
        expect(silent.connections()).toBeGreaterThanOrEqual(maxAttempts);
    } finally {
        await silent.close();
    }
});

test("an endpoint that never accepts the connection: fails within the connect timeout", async () => {
    // 10.255.255.1 is not routed: the SYN goes unanswered (or the network says unreachable at once).
    const gateway = new SdkEcsGateway(settingsFor("http://10.255.255.1:80"), quickRetry({ maxAttempts: 2 }), {
        connectTimeoutMs: 300,
        readTimeoutMs: 300,
    });
    const started = Date.now();
    const error = await gateway.describeInstances(REGION, ["i-a"]).then(
        () => undefined,
        (e: Error) => e,
    );
    expect(error?.message).toMatch(/ECS DescribeInstances for i-a failed/);
    expect(Date.now() - started).toBeLessThan(2 * 400 + 500);
});

test("waiting out a transitional state honours restart.timeoutSeconds: a clear error naming the instance, nothing changed", async () => {
    const rig = await startRig({ keyPairs: [{ name: "ops" }], instances: [{ id: "i-a" }, { id: "i-stuck" }] });
    try {
        rig.emulator.model.setStatus("i-stuck", "Starting");
        const before = snapshot(rig.emulator);
        const timeoutSeconds = 0.5;
        const started = Date.now();
        const result = await settle(
            rig.hooks.create(inputs("ops", ["i-a", "i-stuck"], { restart: { timeoutSeconds, pollIntervalSeconds: 0.02 } })),
        );
        const elapsedMs = Date.now() - started;

        expect(result.error?.message).toMatch(
            /Timed out after 0.5 s waiting for instances to leave a transitional state: i-stuck \(Starting\)\. Nothing was changed/,
        );
        expect(elapsedMs).toBeGreaterThanOrEqual(timeoutSeconds * 1000);
        expect(elapsedMs).toBeLessThan(timeoutSeconds * 1000 + 400);
        expectStateMatches(rig.emulator, before, result, { touched: ["i-stuck"] });
    } finally {
        await rig.close();
    }
});
