/**
 * Timed status transitions (ecs-api.md §3): an operation stores its plan (phases with durations) and
 * every read settles it against the clock. There are no timers, so a test driving a `ManualClock`
 * walks a reboot step by step without sleeping.
 */
import type { InstanceStatus } from "./seed";

export interface Durations {
    stoppingMs: number;
    startingMs: number;
    pendingMs: number;
}

export const DEFAULT_DURATIONS: Durations = { stoppingMs: 3000, startingMs: 5000, pendingMs: 2000 };

/** `create`: a seeded Pending instance; `launch`: RunInstances (Pending → Starting → Running). */
export type TransitionKind = "create" | "launch" | "start" | "stop" | "reboot";

export interface Transition {
    kind: TransitionKind;
    forced: boolean;
    startedAt: number;
    phases: { status: InstanceStatus; durationMs: number }[];
    final: InstanceStatus;
}

export function planTransition(
    kind: TransitionKind,
    forced: boolean,
    startedAt: number,
    durations: Durations,
    timeScale: number,
): Transition {
    const pending = { status: "Pending" as const, durationMs: durations.pendingMs * timeScale };
    const starting = { status: "Starting" as const, durationMs: durations.startingMs * timeScale };
    const stopping = { status: "Stopping" as const, durationMs: durations.stoppingMs * timeScale };
    const plans: Record<TransitionKind, Pick<Transition, "phases" | "final">> = {
        create: { phases: [pending], final: "Running" },
        launch: { phases: [pending, starting], final: "Running" },
        start: { phases: [starting], final: "Running" },
        stop: { phases: [stopping], final: "Stopped" },
        // Running → Stopping → Starting → Running (ecs-api.md §3 reconciles the docs' variants this way).
        reboot: { phases: [stopping, starting], final: "Running" },
    };
    return { kind, forced, startedAt, ...plans[kind] };
}

/** The status at `now`, or when the transition is over, the time it completed. */
export function transitionStatus(transition: Transition, now: number): { status: InstanceStatus } | { completedAt: number } {
    let phaseEnd = transition.startedAt;
    for (const phase of transition.phases) {
        phaseEnd += phase.durationMs;
        if (now < phaseEnd) return { status: phase.status };
    }
    return { completedAt: phaseEnd };
}

/** Every status change the plan makes, with its time (for the lagging DescribeInstances view). */
export function transitionSteps(transition: Transition): { at: number; status: InstanceStatus }[] {
    const steps: { at: number; status: InstanceStatus }[] = [];
    let at = transition.startedAt;
    for (const phase of transition.phases) {
        steps.push({ at, status: phase.status });
        at += phase.durationMs;
    }
    steps.push({ at, status: transition.final });
    return steps;
}
