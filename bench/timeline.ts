/**
 * Where a phase's time and calls went, read from the emulator's call log (arrival times on the wall
 * clock) lined up with the phase's start and end in the provider process: status polls, the time
 * before the first reboot, how late each restart was seen to be over, and the measured chain — each
 * dependent step's calls, how many sequential rounds they took, and the provider's own time between
 * an answer and the next step's first call.
 *
 * An answer is taken to leave the emulator `latencyMs` after the call arrived (the emulator carries
 * a call out on arrival, then waits `latencyMs`); the child's own view of each call is in `client`.
 */
import type { ApiCall } from "pulumi-alicloud-keypair-attachment/emulator";

export interface StepTiming {
    /** "read" (DescribeInstances/DescribeKeyPairs before any reboot), "AttachKeyPair", "DetachKeyPair", … */
    step: string;
    calls: number;
    /** Sequential rounds: a call that arrives after an earlier call of the step could have been answered starts a new one. */
    rounds: number;
    /** The most calls of the step in flight at once at the emulator (arrival → answer). */
    maxInFlight: number;
    /** Instance ids per call, on average (the API takes 100 or 50). */
    meanBatch: number;
    /** The previous step's last answer (or the phase's start) → this step's first call: the provider's own time. */
    gapMs: number;
    /** This step's first call → its last answer. */
    spanMs: number;
}

export interface WaveTiming {
    /** The step before's last answer → the first RebootInstances. */
    gapMs: number;
    rebootCalls: number;
    /** Instance ids per RebootInstances call, on average (the API takes 100). */
    rebootMeanBatch: number;
    /** First → last RebootInstances of the wave (rounds of reboot calls). */
    rebootSpreadMs: number;
    rebootRounds: number;
    /** The most reboot calls in flight at once, and the most polls. */
    rebootMaxInFlight: number;
    pollMaxInFlight: number;
    /** The last reboot's restart over → the first poll after it: how late polling looked. */
    pollLagMs: number;
    /** That poll → the wave's last poll (more poll rounds, or polls that did not yet see all Running). */
    pollRoundsMs: number;
}

/** The measured chain; wall = beforeFirstCall + Σ(step gap + span) + Σ waves + tail. */
export interface Breakdown {
    /** The phase's start in the provider process → the first call reaching the emulator. */
    beforeFirstCallMs: number;
    steps: StepTiming[];
    waves: WaveTiming[];
    /** The last answer → the phase's end in the provider process (building the outputs, journal). */
    tailMs: number;
}

export interface Timeline {
    /** DescribeInstances calls after the first RebootInstances: status polls. */
    polls: number;
    /** First call → first RebootInstances (validation and binding), 0 when nothing was rebooted. */
    beforeRebootMs: number;
    /**
     * Mean over RebootInstances calls of: the first poll of one of its instances after the restart
     * was over (reboot arrival + restart duration) minus that moment. Polling's share of the wall time.
     */
    detectionLagMs: number;
    breakdown: Breakdown;
}

function rounds(calls: readonly ApiCall[], latencyMs: number): number {
    let count = 0;
    let roundStart = -Infinity;
    for (const call of calls) {
        if (call.at >= roundStart + latencyMs) {
            count += 1;
            roundStart = call.at;
        }
    }
    return count;
}

function maxInFlight(calls: readonly ApiCall[], latencyMs: number): number {
    const events = calls.flatMap((c) => [
        { at: c.at, delta: 1 },
        { at: c.at + latencyMs, delta: -1 },
    ]);
    // An answer at the same moment as an arrival frees its slot first.
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let current = 0;
    let most = 0;
    for (const e of events) {
        current += e.delta;
        most = Math.max(most, current);
    }
    return most;
}

const stepOf = (call: ApiCall) => (call.action === "DescribeInstances" || call.action === "DescribeKeyPairs" ? "read" : call.action);

function steps(calls: readonly ApiCall[], startMs: number, latencyMs: number): { steps: StepTiming[]; lastAnswerAt: number } {
    const order: string[] = [];
    const byStep = new Map<string, ApiCall[]>();
    for (const call of calls) {
        const step = stepOf(call);
        if (!byStep.has(step)) {
            byStep.set(step, []);
            order.push(step);
        }
        byStep.get(step)!.push(call);
    }
    let previousAnswerAt = startMs;
    const result = order.map((step) => {
        const ofStep = byStep.get(step)!;
        const first = ofStep[0].at;
        const lastAnswer = Math.max(...ofStep.map((c) => c.at)) + latencyMs;
        const timing = {
            step,
            calls: ofStep.length,
            rounds: rounds(ofStep, latencyMs),
            maxInFlight: maxInFlight(ofStep, latencyMs),
            meanBatch: Math.round((ofStep.reduce((sum, c) => sum + c.instanceIds.length, 0) / ofStep.length) * 10) / 10,
            gapMs: first - previousAnswerAt,
            spanMs: lastAnswer - first,
        };
        previousAnswerAt = lastAnswer;
        return timing;
    });
    return { steps: result, lastAnswerAt: previousAnswerAt };
}

/** Splits the calls from the first reboot on into waves: a reboot after a poll starts the next one. */
function waves(calls: readonly ApiCall[]): ApiCall[][] {
    const result: ApiCall[][] = [];
    let sawPoll = true;
    for (const call of calls) {
        if (call.action === "RebootInstances" && sawPoll) {
            result.push([]);
            sawPoll = false;
        }
        if (call.action === "DescribeInstances") sawPoll = true;
        result[result.length - 1]?.push(call);
    }
    return result;
}

function waveTiming(wave: readonly ApiCall[], previousAnswerAt: number, restartMs: number, latencyMs: number): WaveTiming {
    const reboots = wave.filter((c) => c.action === "RebootInstances");
    const polls = wave.filter((c) => c.action === "DescribeInstances" && !c.code);
    const firstReboot = reboots[0].at;
    const lastReboot = reboots[reboots.length - 1].at;
    const overAt = lastReboot + restartMs;
    const firstAfterOver = polls.find((c) => c.at >= overAt)?.at ?? overAt;
    const lastPoll = polls.length ? polls[polls.length - 1].at : firstAfterOver;
    return {
        rebootCalls: reboots.length,
        rebootMeanBatch: Math.round((reboots.reduce((sum, c) => sum + c.instanceIds.length, 0) / reboots.length) * 10) / 10,
        gapMs: firstReboot - previousAnswerAt,
        rebootSpreadMs: lastReboot - firstReboot,
        rebootRounds: rounds(reboots, latencyMs),
        rebootMaxInFlight: maxInFlight(reboots, latencyMs),
        pollMaxInFlight: maxInFlight(polls, latencyMs),
        pollLagMs: firstAfterOver - overAt,
        pollRoundsMs: Math.max(0, lastPoll - firstAfterOver),
    };
}

export function readTimeline(
    calls: readonly ApiCall[],
    timing: { restartMs: number; latencyMs: number },
    phase: { startedAtEpochMs: number; endedAtEpochMs: number },
    expectedWaves = 1,
): Timeline {
    const { restartMs, latencyMs } = timing;
    const round = (ms: number) => Math.round(ms);
    const firstReboot = calls.findIndex((c) => c.action === "RebootInstances");
    const isRestartCall = (c: ApiCall, index: number) =>
        firstReboot >= 0 && index >= firstReboot && (c.action === "RebootInstances" || c.action === "DescribeInstances");
    // One wave (all at once; many attachments of a fleet reboot side by side): every reboot and every
    // later poll belong to it, and the other calls to the steps, wherever they fall. Rolling: the
    // steps are what comes before the first reboot, and a reboot after a poll starts the next wave.
    const oneWave = expectedWaves <= 1;
    const stepCalls = oneWave ? calls.filter((c, i) => !isRestartCall(c, i)) : firstReboot < 0 ? calls : calls.slice(0, firstReboot);
    const restartCalls = oneWave ? calls.filter(isRestartCall) : firstReboot < 0 ? [] : calls.slice(firstReboot);
    const chain = steps(stepCalls, phase.startedAtEpochMs, latencyMs);
    const waveCalls = restartCalls.length === 0 ? [] : oneWave ? [restartCalls] : waves(restartCalls);
    let previousAnswerAt = chain.lastAnswerAt;
    const waveTimings = waveCalls.map((wave) => {
        const t = waveTiming(wave, previousAnswerAt, restartMs, latencyMs);
        previousAnswerAt = Math.max(...wave.map((c) => c.at)) + latencyMs;
        return t;
    });
    const lastAnswerAt = calls.length ? Math.max(...calls.map((c) => c.at)) + latencyMs : phase.startedAtEpochMs;
    const breakdown: Breakdown = {
        beforeFirstCallMs: round((calls[0]?.at ?? phase.endedAtEpochMs) - phase.startedAtEpochMs),
        steps: chain.steps.map((s) => ({ ...s, gapMs: round(s.gapMs), spanMs: round(s.spanMs) })),
        waves: waveTimings.map((w) => ({
            rebootCalls: w.rebootCalls,
            rebootMeanBatch: w.rebootMeanBatch,
            gapMs: round(w.gapMs),
            rebootSpreadMs: round(w.rebootSpreadMs),
            rebootRounds: w.rebootRounds,
            rebootMaxInFlight: w.rebootMaxInFlight,
            pollMaxInFlight: w.pollMaxInFlight,
            pollLagMs: round(w.pollLagMs),
            pollRoundsMs: round(w.pollRoundsMs),
        })),
        tailMs: round(phase.endedAtEpochMs - lastAnswerAt),
    };
    if (firstReboot < 0) return { polls: 0, beforeRebootMs: 0, detectionLagMs: 0, breakdown };
    const afterFirstReboot = calls.slice(firstReboot);
    const reboots = afterFirstReboot.filter((c) => c.action === "RebootInstances" && !c.code);
    const lags = reboots.flatMap((reboot) => {
        const overAt = reboot.at + restartMs;
        const ids = new Set(reboot.instanceIds);
        const seen = afterFirstReboot.find(
            (c) => c.action === "DescribeInstances" && !c.code && c.at >= overAt && c.instanceIds.some((id) => ids.has(id)),
        );
        return seen ? [seen.at - overAt] : [];
    });
    return {
        polls: afterFirstReboot.filter((c) => c.action === "DescribeInstances").length,
        beforeRebootMs: calls[firstReboot].at - calls[0].at,
        detectionLagMs: lags.length ? Math.round(lags.reduce((a, b) => a + b, 0) / lags.length) : 0,
        breakdown,
    };
}

/**
 * Where the wall time above the critical path went, from the measured chain: wall − bound =
 * the sum of these (each step of the bound costs one latency, each wave restart + one latency).
 */
export interface ExcessParts {
    /** The phase's start → the first call (checks, settings, client, signing the first request). */
    beforeFirstCallMs: number;
    /** Between an answer and the next dependent step's first call (parsing, planning, journal, coalescing window). */
    betweenStepsMs: number;
    /** Steps that took more than one latency: more rounds of calls (concurrency cap, serial calls, retries). */
    extraRoundsMs: number;
    /** First → last reboot of a wave: the last restart ends that much later. */
    rebootSpreadMs: number;
    /** Restart over → the first poll after it. */
    pollLagMs: number;
    /** That poll → the wave's last poll. */
    pollRoundsMs: number;
    /** The last answer → the phase's end. */
    tailMs: number;
}

export function excessParts(b: Breakdown, latencyMs: number): ExcessParts {
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    return {
        beforeFirstCallMs: b.beforeFirstCallMs,
        betweenStepsMs: sum(b.steps.slice(1).map((s) => s.gapMs)) + sum(b.waves.map((w) => w.gapMs)),
        extraRoundsMs: sum(b.steps.map((s) => s.spanMs - latencyMs)),
        rebootSpreadMs: sum(b.waves.map((w) => w.rebootSpreadMs)),
        pollLagMs: sum(b.waves.map((w) => w.pollLagMs)),
        pollRoundsMs: sum(b.waves.map((w) => w.pollRoundsMs)),
        tailMs: b.tailMs,
    };
}
