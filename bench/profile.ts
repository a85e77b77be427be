/**
 * A V8 CPU profile (node:inspector `Profiler.stop`) summarized by self time: what kind of code the
 * provider process spent its CPU on. V8 counts builtins such as JSON.parse or an HMAC in the
 * JavaScript function that called them, and native bindings (socket writes, the HTTP parser) are
 * charged here to their nearest JavaScript caller; so "SDK: read and parse the answer" holds the
 * JSON parsing and "SDK: build and sign the request" the signing.
 */
import type { LoopDelay, ProfileSummary } from "./protocol";

export interface CpuProfile {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
    samples: number[];
    timeDeltas: number[];
}

const TOP_FUNCTIONS = 12;

/** Categories, first match wins; `name` is the function name, `url` the script. */
const CATEGORIES: { category: string; test: (name: string, url: string) => boolean }[] = [
    { category: "idle", test: (name) => name === "(idle)" },
    { category: "garbage collection", test: (name) => name === "(garbage collector)" },
    { category: "V8/native (program)", test: (name) => name === "(program)" },
    { category: "the CPU profiler itself (node:inspector)", test: (_, url) => url === "node:inspector" },
    {
        category: "SDK: build and sign the request",
        test: (name, url) =>
            /openapi-core|openapi-util|gateway-spi|credentials/.test(url) && /sign|hmac|hash|canonical|encode|query|param/i.test(name),
    },
    { category: "SDK: read and parse the answer", test: (name, url) => /darabonba|tea-|httpx/.test(url) && /read|json|parse/i.test(name) },
    { category: "SDK: models (toMap, constructors, validation)", test: (_, url) => /@alicloud\/ecs20140526|darabonba|tea-/.test(url) },
    { category: "SDK: request pipeline (openapi-core)", test: (_, url) => /openapi-core|openapi-util|gateway-spi|credentials/.test(url) },
    {
        category: "HTTP client (httpx, node:http, net, tls)",
        test: (_, url) => /httpx|node:_http|node:http|node:net|node:internal\/(http|stream_base|net)/.test(url),
    },
    { category: "provider code", test: (_, url) => /\/dist\/provider\//.test(url) },
    { category: "benchmark harness (child)", test: (_, url) => /\/dist\/bench\//.test(url) },
    { category: "Node runtime (other node:)", test: (_, url) => url.startsWith("node:") },
];

function categorize(name: string, url: string): string {
    return CATEGORIES.find((c) => c.test(name, url))?.category ?? (url ? "other JavaScript" : "other native");
}

const shortUrl = (url: string) => url.replace(/^.*\/node_modules\//, "").replace(/^.*\/dist\//, "dist/");
const roundMs = (us: number) => Math.round(us / 100) / 10;

type Frame = CpuProfile["nodes"][number]["callFrame"];

const SPECIAL = new Set(["(idle)", "(garbage collector)", "(program)", "(root)"]);

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    /** A native frame (no script: a builtin, a binding) is charged to the nearest JavaScript caller. */
    const caller = (id: number): Frame | undefined => {
        for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
            const frame = nodes.get(at);
            if (frame?.url) return frame;
        }
        return undefined;
    };
    const byCategory = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
        const frame = nodes.get(id);
        const us = profile.timeDeltas[i] ?? 0;
        if (!frame) return;
        total += us;
        const native = !frame.url && !SPECIAL.has(frame.functionName);
        const charged = native ? caller(id) : undefined;
        const category = charged ? categorize(charged.functionName, charged.url) : categorize(frame.functionName, frame.url);
        byCategory.set(category, (byCategory.get(category) ?? 0) + us);
        if (category === "idle") return;
        const where = (f: Frame) => `${f.functionName || "(anonymous)"} (${shortUrl(f.url) || "native"}:${f.lineNumber + 1})`;
        const fn = charged ? `${frame.functionName || "(native)"} ← ${where(charged)}` : where(frame);
        byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    });
    return {
        totalMs: roundMs(total),
        byCategory: Object.fromEntries([...byCategory].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, roundMs(us)])),
        topFunctions: [...byFunction]
            .sort((a, b) => b[1] - a[1])
            .slice(0, TOP_FUNCTIONS)
            .map(([fn, us]) => ({ fn, ms: roundMs(us) })),
    };
}

const MS_PER_NS = 1e-6;
const round2 = (ms: number) => Math.round(ms * 100) / 100;

/**
 * perf_hooks.monitorEventLoopDelay at `resolution: 1` records the whole interval between its 1 ms
 * timer's runs (nanoseconds): the delay is what lies above the millisecond.
 */
export function loopDelayMs(histogram: { mean: number; max: number; percentile(p: number): number }): LoopDelay {
    const above = (ns: number) => round2(Math.max(0, ns * MS_PER_NS - 1));
    return { meanMs: above(histogram.mean), p99Ms: above(histogram.percentile(99)), maxMs: above(histogram.max) };
}

/** `HeapProfiler.stopSampling`'s tree: bytes allocated (sampled) by each call site. */
export interface HeapSamplingProfile {
    head: HeapNode;
}

interface HeapNode {
    callFrame: Frame;
    selfSize: number;
    children: HeapNode[];
}

const roundMb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/** Allocations by category and by function; native frames charged to their JavaScript caller, as above. */
export function summarizeAllocations(
    profile: HeapSamplingProfile,
): Pick<ProfileSummary, "allocatedMb" | "allocatedByCategory" | "topAllocators"> {
    const byCategory = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let total = 0;
    const where = (f: Frame) => `${f.functionName || "(anonymous)"} (${shortUrl(f.url) || "native"}:${f.lineNumber + 1})`;
    const walk = (node: HeapNode, jsCaller: Frame | undefined) => {
        const own = node.callFrame.url ? node.callFrame : jsCaller;
        if (node.selfSize > 0) {
            total += node.selfSize;
            const frame = own ?? node.callFrame;
            const category = categorize(frame.functionName, frame.url);
            byCategory.set(category, (byCategory.get(category) ?? 0) + node.selfSize);
            const fn = node.callFrame.url || !own ? where(node.callFrame) : `${node.callFrame.functionName || "(native)"} ← ${where(own)}`;
            byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
        }
        for (const child of node.children) walk(child, own);
    };
    walk(profile.head, undefined);
    return {
        allocatedMb: roundMb(total),
        allocatedByCategory: Object.fromEntries([...byCategory].sort((a, b) => b[1] - a[1]).map(([k, bytes]) => [k, roundMb(bytes)])),
        topAllocators: [...byFunction]
            .sort((a, b) => b[1] - a[1])
            .slice(0, TOP_FUNCTIONS)
            .map(([fn, bytes]) => ({ fn, mb: roundMb(bytes) })),
    };
}
