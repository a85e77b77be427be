/**
 * The benchmark chart's axes follow the data (issue 14): every point and line drawn lies inside its
 * panel, also at N = 10 000 and with sub-second walls. Imports the bench source directly (no build).
 */
import { decadeRange, renderChart, scale } from "../../bench/chart";
import type { BenchResult } from "../../bench/scenarios";

function createRow(n: number, wallMs: number, boundMs: number, calls: number, minCalls: number): BenchResult {
    return { scenario: "single", phase: "create", n, wallMs, boundMs, calls, minCalls } as BenchResult;
}

/** The panels' rectangles, and every drawn coordinate (circle centres, path vertices). */
function geometry(svg: string) {
    const panels = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#fafafa"/g)].map((m) => {
        const [x, y, width, height] = m.slice(1).map(Number);
        return { x, y, width, height };
    });
    const circles = [...svg.matchAll(/<circle cx="([-\d.]+)" cy="([-\d.]+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
    const vertices = [...svg.matchAll(/<path d="([^"]+)"/g)].flatMap((m) =>
        [...m[1].matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((v) => ({ x: Number(v[1]), y: Number(v[2]) })),
    );
    return { panels, points: [...circles, ...vertices] };
}

describe("bench chart axes", () => {
    it("spans the whole decades around every value", () => {
        expect(decadeRange([1, 10, 100, 1_000, 10_000])).toEqual([0, 4]);
        expect(decadeRange([0.05, 2.4, 9.8])).toEqual([-2, 1]);
        expect(decadeRange([0.3, 0.31])).toEqual([-1, 0]);
        expect(decadeRange([12_000, 3])).toEqual([0, 5]);
        // One value on a decade still gets a decade of room; nothing drawable gives a default.
        expect(decadeRange([100])).toEqual([2, 3]);
        expect(decadeRange([0, -1, Number.NaN])).toEqual([0, 1]);
    });

    it("scales the ends of the range to the ends of the axis", () => {
        expect(scale(1, [0, 4], 400)).toBeCloseTo(0);
        expect(scale(10_000, [0, 4], 400)).toBeCloseTo(400);
        expect(scale(0.1, [-1, 1], 200)).toBeCloseTo(0);
    });

    it("draws nothing outside its panel at N = 10 000 and with sub-second walls", () => {
        const rows = [
            createRow(1, 120, 60, 7, 7),
            createRow(10, 300, 60, 7, 7),
            createRow(100, 900, 600, 8, 8),
            createRow(1_000, 2_400, 2_060, 71, 71),
            createRow(10_000, 9_000, 2_060, 701, 701),
        ];
        const { panels, points } = geometry(renderChart(rows, "test"));
        expect(panels).toHaveLength(2);
        expect(points.length).toBeGreaterThan(20);
        const eps = 0.11; // coordinates are printed with one decimal
        for (const p of points) {
            const inside = panels.some(
                (r) => p.x >= r.x - eps && p.x <= r.x + r.width + eps && p.y >= r.y - eps && p.y <= r.y + r.height + eps,
            );
            expect({ point: p, inside }).toEqual({ point: p, inside: true });
        }
    });
});
