/**
 * `npm run bench`: runs every scenario against the emulator, prints the table and the targets, and
 * writes bench/results/latest.json, latest.md and chart.svg. A missed target prints FAIL but does not
 * fail the run (timing on a shared machine is noisy); a scenario that cannot run does.
 *
 * Runs from dist/bench/run.js (compiled by bench/tsconfig.json); results go to the source tree.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { renderChart } from "./chart";
import { markdownReport, textReport } from "./report";
import {
    FLEET,
    ONLINE_SIZES,
    SINGLE_SIZES,
    TIMING,
    onlineActivation,
    profiledCreate,
    rollingRestart,
    singleAttachment,
    throttledFleet,
    type BenchResult,
} from "./scenarios";
import { checkTargets, scalingRows } from "./targets";

const REPO_ROOT = resolve(__dirname, "..", "..");
const RESULTS_DIR = join(REPO_ROOT, "bench", "results");

/** The commit measured, so recorded results say what code they describe. */
function revision(): string {
    try {
        return execFileSync("git", ["describe", "--always", "--dirty"], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        }).trim();
    } catch {
        return "unknown revision";
    }
}

/** Written next to the target first, then renamed, so an interrupted run leaves the last results whole. */
function writeResult(name: string, text: string): void {
    const target = join(RESULTS_DIR, name);
    writeFileSync(`${target}.tmp`, text);
    renameSync(`${target}.tmp`, target);
}

function progress(row: BenchResult): void {
    const status = row.succeeded === row.resources ? "" : `  FAILED: ${row.errors?.join(" | ")}`;
    const run = row.run === undefined ? "" : ` run ${row.run}`;
    console.log(
        `  ${row.scenario} ${row.phase} N=${row.n}${run}: ${row.calls} calls (min ${row.minCalls}), ${(row.wallMs / 1000).toFixed(2)} s ` +
            `(critical path ${(row.boundMs / 1000).toFixed(2)} s, sum ${(row.sumBoundMs / 1000).toFixed(2)} s), cpu ${row.cpuMs} ms, rss ${row.rssMb} MB${status}`,
    );
}

/**
 * `KPA_BENCH_ONLY=fleet,single` runs only those groups (single, rolling, fleet, online, profiled) and
 * prints their rows and targets without writing bench/results (a partial run is not a result).
 */
const ONLY = new Set((process.env.KPA_BENCH_ONLY ?? "").split(",").filter(Boolean));
const runs = (group: string) => ONLY.size === 0 || ONLY.has(group);

async function main(): Promise<void> {
    const startedAt = Date.now();
    const loadAtStart = loadavg()[0];
    const rows: BenchResult[] = [];
    const baselineRssMb = new Map<number, number>();
    for (const n of runs("single") ? SINGLE_SIZES : []) {
        console.log(`single attachment, N=${n}`);
        const single = await singleAttachment(n, progress);
        rows.push(...single.rows);
        baselineRssMb.set(n, single.baselineRssMb);
    }
    if (runs("rolling")) {
        console.log("rolling restart");
        rows.push(...(await rollingRestart(progress)));
    }
    for (let run = 1; runs("fleet") && run <= FLEET.runs; run++) {
        console.log(`200 attachments at once, throttled (run ${run} of ${FLEET.runs})`);
        rows.push(...(await throttledFleet(run, progress)));
    }
    const notes: string[] = [];
    for (const n of runs("online") ? ONLINE_SIZES : []) {
        console.log(`online activation, N=${n}`);
        const online = await onlineActivation(n, progress);
        rows.push(...online.rows);
        if (online.note) {
            console.log(`  ${online.note}`);
            notes.push(online.note);
        }
    }
    if (runs("profiled")) {
        console.log("profiled create (CPU profile of the provider process; not a target row)");
        rows.push(...(await profiledCreate(progress)));
    }

    const scaling = scalingRows(rows, baselineRssMb);
    const checks = checkTargets(rows, scaling, notes);
    const context = `${revision()}, Node ${process.version}, ${cpus().length} CPU(s), ${new Date(startedAt).toISOString().slice(0, 10)}, whole run ${Math.round((Date.now() - startedAt) / 1000)} s, load average ${loadAtStart.toFixed(1)} → ${loadavg()[0].toFixed(1)} (other helpers share the machine)`;
    if (ONLY.size) {
        console.log(`\n${markdownReport(rows, scaling, checks, TIMING, context)}`);
        console.log(`\nA partial run (KPA_BENCH_ONLY=${[...ONLY].join(",")}): nothing written to ${RESULTS_DIR}.`);
        return;
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeResult("latest.json", `${JSON.stringify({ context, timing: TIMING, notes, checks, scaling, rows }, null, 2)}\n`);
    writeResult("latest.md", markdownReport(rows, scaling, checks, TIMING, context));
    writeResult("chart.svg", renderChart(rows, `restart ${TIMING.restartMs / 1000} s, ${TIMING.latencyMs} ms a call; ${context}`));
    console.log(`\n${textReport(rows, scaling, checks)}`);
    console.log(`\nResults: ${RESULTS_DIR}/latest.json, latest.md, chart.svg`);
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
});
