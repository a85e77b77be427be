/** The results as a plain-text table (stdout) and as Markdown (bench/results/latest.md, for the README). */
import { MIN_POLLS_PER_WAVE, TimingModel } from "./limits";
import type { BenchResult } from "./scenarios";
import { callsRatio, wallRatio, type ScalingRow, type TargetCheck } from "./targets";

const HEADERS = [
    "scenario",
    "phase",
    "N",
    "calls",
    "min",
    "calls/min",
    "polls",
    "throttled",
    "wall s",
    "bound s",
    "wall/bound",
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
        String(r.calls),
        String(r.minCalls),
        callsRatio(r).toFixed(2),
        String(r.polls),
        r.throttled === undefined ? "" : String(r.throttled),
        (r.wallMs / 1000).toFixed(2),
        (r.lowerBoundMs / 1000).toFixed(2),
        wallRatio(r).toFixed(2),
        r.waves ? String(r.detectionLagMs) : "",
        String(r.cpuMs),
        r.rssMb.toFixed(0),
        `${r.succeeded}/${r.resources}`,
    ];
}

const SCALING_HEADERS = ["N", "cpu ms (all phases)", "cpu ms / instance", "peak rss MB", "rss above idle MB"];

function scalingCells(s: ScalingRow): string[] {
    return [String(s.n), s.cpuMs.toFixed(0), s.cpuMsPerInstance.toFixed(2), s.rssMb.toFixed(0), s.rssGrowthMb.toFixed(1)];
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

const checkLine = (c: TargetCheck) => `${c.pass ? "PASS" : "FAIL"}  ${c.target}: ${c.detail}`;

export function textReport(rows: BenchResult[], scaling: ScalingRow[], checks: TargetCheck[]): string {
    return [
        textTable(HEADERS, rows.map(cells)),
        "",
        textTable(SCALING_HEADERS, scaling.map(scalingCells)),
        "",
        ...checks.map(checkLine),
        "",
        `${checks.filter((c) => c.pass).length} of ${checks.length} targets met.`,
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
            `RebootInstances ⌈N/100⌉ and ${MIN_POLLS_PER_WAVE} status polls of ⌈N/100⌉ calls per restart wave); *bound* = restart × waves + min × ${timing.latencyMs} ms. ` +
            "*polls* = DescribeInstances calls after the first reboot; *lag* = how long after a restart was over a poll saw it (mean per reboot call). " +
            "`strictMinCalls` in latest.json counts one poll per wave instead. The peer (Terraform's attachment) needs about 2N + 15 calls and at least 5 s × N, and fails above 50 instances.",
        "",
        markdownTable(HEADERS, rows.map(cells)),
        "",
        markdownTable(SCALING_HEADERS, scaling.map(scalingCells)),
        "",
        ...checks.map((c) => `- ${c.pass ? "PASS" : "**FAIL**"} ${c.target}: ${c.detail}`),
        "",
        "![wall time and calls against N](bench/results/chart.svg)",
        "",
    ].join("\n");
}
