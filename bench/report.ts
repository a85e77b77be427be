/** The results as a plain-text table (stdout) and as Markdown (bench/results/latest.md, for the README). */
import { MIN_POLLS_PER_WAVE, type TimingModel } from "./limits";
import type { BenchResult } from "./scenarios";
import { callsRatio, sumRatio, wallRatio, type ScalingRow, type TargetCheck } from "./targets";

const HEADERS = [
    "scenario",
    "phase",
    "N",
    "run",
    "calls",
    "min",
    "calls/min",
    "API min",
    "polls",
    "throttled",
    "wall s",
    "bound s",
    "wall/bound",
    "sum s",
    "wall/sum",
    "lag ms",
    "cpu ms",
    "rss MB",
    "ok",
];

function cells(r: BenchResult): string[] {
    return [
        r.scenario,
        r.phase,
        String(r.n),
        r.run === undefined ? "" : String(r.run),
        String(r.calls),
        String(r.minCalls),
        callsRatio(r).toFixed(2),
        String(r.apiMinCalls),
        String(r.polls),
        r.throttled === undefined ? "" : String(r.throttled),
        (r.wallMs / 1000).toFixed(2),
        (r.boundMs / 1000).toFixed(2),
        wallRatio(r).toFixed(2),
        (r.sumBoundMs / 1000).toFixed(2),
        sumRatio(r).toFixed(2),
        r.waves ? String(r.detectionLagMs) : "",
        String(r.cpuMs),
        r.rssMb.toFixed(0),
        `${r.succeeded}/${r.resources}`,
    ];
}

/** Where the time above the bound went (timeline.ts `excessParts`), and the event loops and HTTP calls. */
const BREAKDOWN_HEADERS = [
    "scenario",
    "phase",
    "N",
    "run",
    "wall−bound ms",
    "before 1st call",
    "between steps",
    "extra rounds",
    "reboot spread",
    "poll lag",
    "poll rounds",
    "tail",
    "steps (calls/rounds/max in flight/ids per call)",
    "loop p99/max ms",
    "emulator loop p99 ms / cpu ms",
    "http mean/p99 ms",
];

function breakdownCells(r: BenchResult): string[] {
    const e = r.excessParts;
    const steps = [
        ...r.breakdown.steps.map((s) => `${s.step} ${s.calls}/${s.rounds}/${s.maxInFlight}/${s.meanBatch}`),
        ...r.breakdown.waves
            .slice(0, 1)
            .map(
                (w) =>
                    `RebootInstances ${w.rebootCalls}/${w.rebootRounds}/${w.rebootMaxInFlight}/${w.rebootMeanBatch}, polls ≤ ${w.pollMaxInFlight} in flight`,
            ),
    ].join(", ");
    return [
        r.scenario,
        r.phase,
        String(r.n),
        r.run === undefined ? "" : String(r.run),
        String(r.excessMs),
        String(e.beforeFirstCallMs),
        String(e.betweenStepsMs),
        String(e.extraRoundsMs),
        String(e.rebootSpreadMs),
        String(e.pollLagMs),
        String(e.pollRoundsMs),
        String(e.tailMs),
        steps,
        `${r.loopDelay.p99Ms.toFixed(1)}/${r.loopDelay.maxMs.toFixed(0)}`,
        `${r.emulatorLoopDelay.p99Ms.toFixed(1)} / ${r.emulatorCpuMs}`,
        `${r.client.meanMs.toFixed(1)}/${r.client.p99Ms.toFixed(0)}`,
    ];
}

const SCALING_HEADERS = ["N", "cpu ms (all phases)", "cpu ms / instance", "peak rss MB", "rss above idle MB"];

function scalingCells(s: ScalingRow): string[] {
    return [String(s.n), s.cpuMs.toFixed(0), s.cpuMsPerInstance.toFixed(3), s.rssMb.toFixed(0), s.rssGrowthMb.toFixed(1)];
}

function textTable(headers: string[], rows: string[][]): string {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function markdownTable(headers: string[], rows: string[][]): string {
    const align = headers.map((_, i) => (i < 2 ? "---" : "---:"));
    return [headers, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

const status = (c: TargetCheck) => (c.skipped ? "SKIP" : c.pass ? "PASS" : "FAIL");
const checkLine = (c: TargetCheck) => `${status(c)}  ${c.target}: ${c.detail}`;
const summary = (checks: TargetCheck[]) => {
    const counted = checks.filter((c) => !c.skipped);
    return `${counted.filter((c) => c.pass).length} of ${counted.length} targets met (${checks.length - counted.length} skipped).`;
};

function profileLines(rows: BenchResult[]): string[] {
    return rows.flatMap((r) =>
        r.profile
            ? [
                  `CPU profile of ${r.scenario} ${r.phase} N=${r.n} (provider process, self time, ${r.profile.totalMs} ms sampled over a ${r.wallMs} ms phase):`,
                  ...Object.entries(r.profile.byCategory).map(([category, ms]) => `  ${category}: ${ms} ms`),
                  "  top functions:",
                  ...r.profile.topFunctions.map((f) => `    ${f.ms} ms  ${f.fn}`),
                  `  allocated during the phase (sampling heap profiler, collected objects included): ${r.profile.allocatedMb ?? "?"} MB`,
                  ...Object.entries(r.profile.allocatedByCategory ?? {}).map(([category, mb]) => `    ${category}: ${mb} MB`),
                  "  top allocators:",
                  ...(r.profile.topAllocators ?? []).map((f) => `    ${f.mb} MB  ${f.fn}`),
              ]
            : [],
    );
}

export function textReport(rows: BenchResult[], scaling: ScalingRow[], checks: TargetCheck[]): string {
    return [
        textTable(HEADERS, rows.map(cells)),
        "",
        textTable(BREAKDOWN_HEADERS, rows.map(breakdownCells)),
        "",
        textTable(SCALING_HEADERS, scaling.map(scalingCells)),
        "",
        ...profileLines(rows),
        "",
        ...checks.map(checkLine),
        "",
        summary(checks),
    ].join("\n");
}

export function markdownReport(
    rows: BenchResult[],
    scaling: ScalingRow[],
    checks: TargetCheck[],
    timing: TimingModel,
    context: string,
): string {
    return [
        "## Benchmark",
        "",
        `${context}. Restart ${timing.restartMs / 1000} s (emulator Stopping 0.5 s + Starting 1.5 s), ${timing.latencyMs} ms added to every call, ` +
            "provider in its own Node process. *min* = the fewest calls (DescribeKeyPairs 1, DescribeInstances ⌈N/100⌉, AttachKeyPair/DetachKeyPair ⌈N/50⌉, " +
            `RebootInstances ⌈N/100⌉ and ${MIN_POLLS_PER_WAVE} status polls of ⌈N/100⌉ calls per restart wave, and the restart record that survives a lost runner: ` +
            "TagResources ⌈N/50⌉ before AttachKeyPair, UntagResources ⌈N/50⌉ after the restart); *API min* = the same without the record. " +
            `*bound* = the critical path: restart × waves + ${timing.latencyMs} ms per dependent step (independent calls overlap; bench/README.md). ` +
            `*sum* = the old bound, restart × waves + min × ${timing.latencyMs} ms. ` +
            "*polls* = DescribeInstances calls after the first reboot; *lag* = how long after a restart was over a poll saw it (mean per reboot call). " +
            "The peer (Terraform's attachment) needs about 2N + 15 calls and at least 5 s × N, and fails above 50 instances.",
        "",
        markdownTable(HEADERS, rows.map(cells)),
        "",
        "### Where the time above the bound went (measured)",
        "",
        "From the emulator's call log lined up with the phase in the provider process (ms; the parts add up to wall − bound). " +
            "*steps* = calls/sequential rounds per dependent step; *loop* = the provider process's event-loop delay " +
            "(perf_hooks.monitorEventLoopDelay); *http* = request → response headers in the provider process (the emulator adds " +
            `${timing.latencyMs} ms).`,
        "",
        markdownTable(BREAKDOWN_HEADERS, rows.map(breakdownCells)),
        "",
        markdownTable(SCALING_HEADERS, scaling.map(scalingCells)),
        "",
        ...profileLines(rows).map((l) => (l.startsWith("CPU") ? `**${l}**\n` : `- ${l.trim()}`)),
        "",
        ...checks.map((c) => `- ${c.skipped ? "SKIP" : c.pass ? "PASS" : "**FAIL**"} ${c.target}: ${c.detail}`),
        "",
        summary(checks),
        "",
        "![wall time and calls against N](bench/results/chart.svg)",
        "",
    ].join("\n");
}
