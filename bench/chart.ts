/**
 * bench/results/chart.svg, written by hand (no dependency): wall time and calls of one attachment's
 * create against N, log scales, with the critical-path bound / minimum and the peer's cost model
 * beside ours. Both axes follow the data: each spans the whole decades around every value drawn
 * (`decadeRange`), so no point lands outside its panel at N = 10 000 or at a sub-second wall.
 */
import { PEER_MAX_INSTANCES, peerCalls, peerWallMs } from "./limits";
import type { BenchResult } from "./scenarios";

interface Point {
    x: number;
    y: number;
}

interface Series {
    label: string;
    color: string;
    points: Point[];
    dash?: string;
    markers?: boolean;
    /** Print each point's value next to it. */
    values?: (y: number) => string;
}

interface Panel {
    title: string;
    yLabel: string;
    series: Series[];
}

const WIDTH = 980;
const HEIGHT = 534;
const PANEL = { width: 400, height: 330, top: 84 };
const PANEL_LEFTS = [80, 560];
const COLORS = { ours: "#1f5fbf", bound: "#2a9d4a", peer: "#c0392b" };
const PEER_SAMPLES = 40;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The decades [lo, hi] (powers of ten) of a log axis that holds every positive value: lo = ⌊log10 min⌋,
 * hi = ⌈log10 max⌉, at least one decade wide. Values ≤ 0 or not finite cannot be drawn on a log
 * scale and are ignored; with none left the axis is [0, 1].
 */
export function decadeRange(values: readonly number[]): [number, number] {
    const drawable = values.filter((v) => Number.isFinite(v) && v > 0);
    if (drawable.length === 0) return [0, 1];
    // Rounded first, so that 1000 (log10 = 2.9999999999999996) is not taken for a value below the decade.
    const log = (v: number) => Math.round(Math.log10(v) * 1e9) / 1e9;
    const lo = Math.floor(Math.min(...drawable.map(log)));
    const hi = Math.ceil(Math.max(...drawable.map(log)));
    return [lo, Math.max(hi, lo + 1)];
}

/** Position of `value` along an axis of `length` spanning the decades [lo, hi]: 0 at 10^lo, length at 10^hi. */
export function scale(value: number, [lo, hi]: [number, number], length: number): number {
    return ((Math.log10(value) - lo) / (hi - lo)) * length;
}

export function decadeLabel(exponent: number, unit: string): string {
    const value = 10 ** exponent;
    const text = value >= 1000 ? `${value / 1000}k` : exponent < 0 ? value.toFixed(-exponent) : String(value);
    return `${text}${unit}`;
}

function renderPanel(panel: Panel, left: number, unit: string, xDecades: [number, number]): string {
    const { width, height, top } = PANEL;
    const yDecades = decadeRange(panel.series.flatMap((s) => s.points.map((p) => p.y)));
    const px = (x: number) => left + scale(x, xDecades, width);
    const py = (y: number) => top + height - scale(y, yDecades, height);
    const parts: string[] = [`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="#fafafa" stroke="#999"/>`];
    for (let e = xDecades[0]; e <= xDecades[1]; e++) {
        const x = px(10 ** e);
        parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + height}" stroke="#ddd"/>`);
        parts.push(`<text x="${x}" y="${top + height + 18}" text-anchor="middle">${decadeLabel(e, "")}</text>`);
    }
    for (let e = yDecades[0]; e <= yDecades[1]; e++) {
        const y = py(10 ** e);
        parts.push(`<line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="#ddd"/>`);
        parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${decadeLabel(e, unit)}</text>`);
    }
    const peerLimitX = px(PEER_MAX_INSTANCES);
    parts.push(
        `<line x1="${peerLimitX}" y1="${top}" x2="${peerLimitX}" y2="${top + height}" stroke="${COLORS.peer}" stroke-dasharray="2 4"/>`,
    );
    parts.push(
        `<text x="${peerLimitX + 4}" y="${top + 14}" fill="${COLORS.peer}" font-size="11">peer fails above ${PEER_MAX_INSTANCES}</text>`,
    );
    for (const s of panel.series) {
        const path = s.points
            .filter((p) => p.x > 0 && p.y > 0)
            .map((p, i) => `${i ? "L" : "M"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
            .join(" ");
        parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
        if (s.markers) {
            for (const p of s.points.filter((q) => q.x > 0 && q.y > 0))
                parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
        }
        if (s.values) {
            for (const p of s.points.filter((q) => q.x > 0 && q.y > 0)) {
                parts.push(
                    `<text x="${(px(p.x) + 5).toFixed(1)}" y="${(py(p.y) - 7).toFixed(1)}" fill="${s.color}" font-size="11">${escape(s.values(p.y))}</text>`,
                );
            }
        }
    }
    parts.push(`<text x="${left + width / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`);
    parts.push(`<text x="${left + width / 2}" y="${top + height + 38}" text-anchor="middle">N (instances bound by one attachment)</text>`);
    parts.push(
        `<text transform="translate(${left - 52},${top + height / 2}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
    );
    return parts.join("\n");
}

function legend(entries: { label: string; color: string; dash?: string }[], y: number): string {
    const step = WIDTH / entries.length;
    return entries
        .map((e, i) => {
            const x = 30 + i * step;
            return (
                `<line x1="${x}" y1="${y}" x2="${x + 30}" y2="${y}" stroke="${e.color}" stroke-width="2"${e.dash ? ` stroke-dasharray="${e.dash}"` : ""}/>` +
                `<text x="${x + 36}" y="${y + 4}">${escape(e.label)}</text>`
            );
        })
        .join("\n");
}

/** Log-spaced samples of a model from N = 1 to the largest N measured. */
function sampleModel(maxN: number, model: (n: number) => number): Point[] {
    return Array.from({ length: PEER_SAMPLES + 1 }, (_, i) => {
        const x = 10 ** ((Math.log10(maxN) * i) / PEER_SAMPLES);
        return { x, y: model(x) };
    });
}

export function renderChart(rows: BenchResult[], subtitle: string): string {
    const creates = rows.filter((r) => r.scenario === "single" && r.phase === "create").sort((a, b) => a.n - b.n);
    const maxN = Math.max(...creates.map((r) => r.n), PEER_MAX_INSTANCES);
    const seconds = (ms: number) => ms / 1000;
    const wall: Panel = {
        title: "Wall time of create",
        yLabel: "seconds (log)",
        series: [
            { label: "peer ≥ 5 s × N", color: COLORS.peer, dash: "6 4", points: sampleModel(maxN, (n) => seconds(peerWallMs(n))) },
            {
                label: "critical-path bound",
                color: COLORS.bound,
                dash: "4 3",
                markers: true,
                points: creates.map((r) => ({ x: r.n, y: seconds(r.boundMs) })),
            },
            {
                label: "ours",
                color: COLORS.ours,
                markers: true,
                values: (y) => `${y.toFixed(1)} s`,
                points: creates.map((r) => ({ x: r.n, y: seconds(r.wallMs) })),
            },
        ],
    };
    const calls: Panel = {
        title: "ECS API calls of create",
        yLabel: "calls (log)",
        series: [
            { label: "peer 2N + 15", color: COLORS.peer, dash: "6 4", points: sampleModel(maxN, peerCalls) },
            { label: "minimum", color: COLORS.bound, dash: "4 3", markers: true, points: creates.map((r) => ({ x: r.n, y: r.minCalls })) },
            {
                label: "ours",
                color: COLORS.ours,
                markers: true,
                values: (y) => String(y),
                points: creates.map((r) => ({ x: r.n, y: r.calls })),
            },
        ],
    };
    const xDecades = decadeRange([...wall.series, ...calls.series].flatMap((series) => series.points.map((p) => p.x)));
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#222">`,
        `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
        `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">KeyPairAttachment at fleet scale: one attachment over N running instances</text>`,
        `<text x="${WIDTH / 2}" y="44" text-anchor="middle" font-size="12" fill="#555">${escape(subtitle)}</text>`,
        renderPanel(wall, PANEL_LEFTS[0], " s", xDecades),
        renderPanel(calls, PANEL_LEFTS[1], "", xDecades),
        legend(
            [
                { label: "ours (measured)", color: COLORS.ours },
                { label: "critical-path bound / minimum calls", color: COLORS.bound, dash: "4 3" },
                { label: "peer: Terraform attachment model", color: COLORS.peer, dash: "6 4" },
            ],
            HEIGHT - 30,
        ),
        "</svg>",
        "",
    ].join("\n");
}
