/** The progress reporter on a manual clock, and the restart feeding it wave by wave. */
import { Clock } from "../../provider/clock";
import { EcsGateway } from "../../provider/ecs/gateway";
import { InstanceFacts } from "../../provider/ecs/instance";
import {
    LONG_WORK_MS,
    PROGRESS_HEARTBEAT_MS,
    PROGRESS_LINE_INTERVAL_MS,
    RestartProgress,
    formatDuration,
    waitProgress,
} from "../../provider/progress";
import { RestartProgressEvent, restartInstances } from "../../provider/restart";

function manualClock(): Clock & { advance(ms: number): void } {
    let now = 0;
    return {
        now: () => now,
        sleep: (ms) => {
            now += ms;
            return Promise.resolve();
        },
        advance: (ms) => void (now += ms),
    };
}

const event = (wave: number, waves: number, done: number, total: number, instanceIds = ["i-1"]): RestartProgressEvent => ({
    wave,
    waves,
    done,
    total,
    instanceIds,
});

describe("formatDuration", () => {
    test.each([
        [0, "0 s"],
        [4_400, "4 s"],
        [59_600, "1 min 0 s"],
        [125_000, "2 min 5 s"],
        [3_780_000, "1 h 3 min"],
        [-5, "0 s"],
    ])("%d ms → %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe("RestartProgress", () => {
    test("a rolling restart: a line at each wave's start and end, with done of total, elapsed and time left", () => {
        const clock = manualClock();
        const lines: string[] = [];
        const progress = new RestartProgress(clock, (l) => lines.push(l), "KPA ops");
        progress.waveStarted(event(1, 3, 0, 6, ["i-1", "i-2"]));
        clock.advance(40_000);
        progress.waveEnded(event(1, 3, 2, 6));
        clock.advance(PROGRESS_LINE_INTERVAL_MS);
        progress.waveStarted(event(2, 3, 2, 6, ["i-3", "i-4"]));
        expect(lines).toEqual([
            "KPA ops: restart wave 1 of 3 started (i-1, i-2); 0 of 6 instance(s) restarted; 0 s elapsed.",
            "KPA ops: restart wave 1 of 3 ended; 2 of 6 instance(s) restarted; 40 s elapsed, about 1 min 20 s left.",
            "KPA ops: restart wave 2 of 3 started (i-3, i-4); 2 of 6 instance(s) restarted; 45 s elapsed, about 1 min 30 s left.",
        ]);
    });

    test("at most one line per interval: events closer together are dropped", () => {
        const clock = manualClock();
        const lines: string[] = [];
        const progress = new RestartProgress(clock, (l) => lines.push(l), "KPA");
        for (let wave = 1; wave <= 10; wave++) {
            progress.waveStarted(event(wave, 10, wave - 1, 10));
            clock.advance(1_000);
            progress.waveEnded(event(wave, 10, wave, 10));
        }
        // Events every second for 10 s: a line at 0, 5 and 10 s, nothing between.
        expect(lines.map((l) => l.match(/wave \d+ of 10 \w+/)?.[0])).toEqual([
            "wave 1 of 10 started",
            "wave 5 of 10 ended",
            "wave 10 of 10 ended",
        ]);
    });

    test("polls between wave events print only after a heartbeat without a line", () => {
        const clock = manualClock();
        const lines: string[] = [];
        const progress = new RestartProgress(clock, (l) => lines.push(l), "KPA");
        progress.waveStarted(event(1, 2, 0, 4));
        for (let t = 0; t < PROGRESS_HEARTBEAT_MS; t += 2_000) {
            clock.advance(2_000);
            progress.wavePolled(event(1, 2, 1, 4));
        }
        expect(lines).toHaveLength(2);
        expect(lines[1]).toBe(
            "KPA: restart wave 1 of 2 waiting for instances to be Running again; 1 of 4 instance(s) restarted; 30 s elapsed, about 1 min 30 s left.",
        );
    });

    test("a short single wave prints nothing; a long one reports once it counts as long", () => {
        const clock = manualClock();
        const lines: string[] = [];
        const progress = new RestartProgress(clock, (l) => lines.push(l), "KPA");
        progress.waveStarted(event(1, 1, 0, 3));
        clock.advance(LONG_WORK_MS - 1);
        progress.wavePolled(event(1, 1, 0, 3));
        expect(lines).toEqual([]);
        clock.advance(1);
        progress.wavePolled(event(1, 1, 2, 3));
        clock.advance(1_000);
        progress.waveEnded(event(1, 1, 3, 3));
        expect(lines).toEqual([
            "KPA: restart wave 1 of 1 waiting for instances to be Running again; 2 of 3 instance(s) restarted; 15 s elapsed, about 8 s left.",
        ]);
    });
});

describe("waitProgress", () => {
    test("silent for a short wait, then a line per heartbeat naming what is still awaited", () => {
        const clock = manualClock();
        const lines: string[] = [];
        const onPoll = waitProgress(clock, (l) => lines.push(l), "KPA", 3);
        clock.advance(LONG_WORK_MS - 1);
        onPoll(["i-1", "i-2"]);
        expect(lines).toEqual([]);
        clock.advance(1);
        onPoll(["i-1", "i-2"]);
        clock.advance(PROGRESS_HEARTBEAT_MS - 1);
        onPoll(["i-2"]);
        clock.advance(1);
        onPoll(["i-2"]);
        onPoll([]);
        expect(lines).toEqual([
            "KPA: waiting for 2 of 3 instance(s) to leave a transitional state (i-1, i-2); 15 s elapsed.",
            "KPA: waiting for 1 of 3 instance(s) to leave a transitional state (i-2); 45 s elapsed.",
        ]);
    });
});

/** A gateway whose instances are Running again `rebootMs` after their reboot, on the manual clock. */
function rebootingGateway(clock: Clock, rebootMs: number): EcsGateway & { reboots: string[][] } {
    const rebootedAt = new Map<string, number>();
    const reboots: string[][] = [];
    const facts = (id: string): InstanceFacts => ({
        instanceId: id,
        status: clock.now() - (rebootedAt.get(id) ?? -Infinity) < rebootMs ? "Starting" : "Running",
        osType: "linux",
        ioOptimized: true,
        lockedForSecurity: false,
    });
    const unused = () => Promise.reject(new Error("not used by restartInstances"));
    return {
        reboots,
        describeInstances: (_region, ids) => Promise.resolve(new Map(ids.map((id) => [id, facts(id)]))),
        rebootInstances: (_region, ids) => {
            reboots.push([...ids]);
            for (const id of ids) rebootedAt.set(id, clock.now());
            return Promise.resolve({ succeeded: [...ids], failed: [] });
        },
        keyPairExists: unused,
        attachKeyPair: unused,
        detachKeyPair: unused,
        setInstancePasswords: unused,
        tagInstances: unused,
        untagInstances: unused,
    };
}

describe("restartInstances reports to its observer", () => {
    test("a rolling restart of 6 in waves of 2: lines arrive as the waves go, not at the end", async () => {
        const clock = manualClock();
        // Shorter than a heartbeat: only the wave events speak.
        const gateway = rebootingGateway(clock, 20_000);
        const lines: { line: string; reboots: number }[] = [];
        const progress = new RestartProgress(clock, (line) => lines.push({ line, reboots: gateway.reboots.length }), "KPA");
        const ids = ["i-1", "i-2", "i-3", "i-4", "i-5", "i-6"];
        const outcome = await restartInstances(
            gateway,
            "r",
            ids,
            { force: false, batchSize: 2, timeoutSeconds: 600, pollIntervalSeconds: 2 },
            clock,
            undefined,
            progress,
        );
        expect(outcome.restarted).toEqual(ids);
        expect(lines.map((l) => [l.reboots, l.line.replace(/^KPA: /, "").replace(/;.*/, "")])).toEqual([
            [0, "restart wave 1 of 3 started (i-1, i-2)"],
            [1, "restart wave 1 of 3 ended"],
            [2, "restart wave 2 of 3 ended"],
            [3, "restart wave 3 of 3 ended"],
        ]);
        expect(lines[1].line).toBe("KPA: restart wave 1 of 3 ended; 2 of 6 instance(s) restarted; 23 s elapsed, about 46 s left.");
        // Nothing left: no estimate.
        expect(lines[3].line).toMatch(/; 6 of 6 instance\(s\) restarted; 1 min \d+ s elapsed\.$/);
    });
});
