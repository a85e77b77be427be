/**
 * Fault injection: error responses, delays, dropped or half-written responses, per-instance
 * failures inside a 200 batch result, and per-action throttling. The server asks `next()` once per
 * API call and applies what it gets back; nothing here touches HTTP.
 */
import type { Clock } from "./clock";
import { codeForStatus, type EcsError, errorForCode, errors } from "./errors";

export interface InstanceFailure {
    instanceId: string;
    /** AttachKeyPair/DetachKeyPair: the Result's Code. RunCommand: the run's ErrorCode (`ExecutionTimeout` = Timeout). */
    code: string;
    message?: string;
    /** RunCommand: the failed command's exit code (default 1). */
    exitCode?: number;
}

export interface FaultRule {
    /** Default: every action. */
    action?: string | string[];
    /** With `status`, an ECS error envelope. Either alone is completed from the inventory (errors.ts). */
    code?: string;
    status?: number;
    /** Default 1; Infinity allowed (over HTTP: `null` or `"Infinity"`). */
    times?: number;
    /** Skip the first N matching calls. */
    afterCalls?: number;
    /** Respond this much later (combined with whatever else the rule does). */
    delayMs?: number;
    /** Carry the request out at once, but answer this much later (a slow answer to work already done). */
    answerAfterMs?: number;
    /** Destroy the socket without writing a response. */
    dropConnection?: boolean;
    /** Write the headers and part of the body, then destroy the socket. */
    resetMidResponse?: boolean;
    /** AttachKeyPair/DetachKeyPair: these instances fail inside the HTTP 200 `Results`; RunCommand: their runs fail. */
    instanceFailures?: InstanceFailure[];
    /** A gateway in front of ECS answers this status with an HTML page instead of the ECS body. */
    gatewayStatus?: 502 | 504;
    /** With `gatewayStatus`: the service carried the request out first (a 504 after the work was done). */
    gatewayAfterProcessing?: boolean;
}

/** What the server must do for one call; empty when no rule fired. */
export interface FaultOutcome {
    delayMs?: number;
    answerAfterMs?: number;
    error?: EcsError;
    dropConnection?: boolean;
    resetMidResponse?: boolean;
    instanceFailures?: InstanceFailure[];
    gatewayStatus?: 502 | 504;
    gatewayAfterProcessing?: boolean;
}

export interface ThrottleRule {
    /** Default: every action, each counted on its own (ECS quotas are per API, D-THR). */
    action?: string;
    ratePerSecond: number;
}

interface ActiveRule {
    id: string;
    rule: FaultRule;
    seen: number;
    remaining: number;
}

const THROTTLE_WINDOW_MS = 1000;

export class FaultInjector {
    private rules: ActiveRule[] = [];
    private nextId = 1;
    private throttles: ThrottleRule[] = [];
    private readonly acceptedAt = new Map<string, number[]>();
    private throttled = 0;

    constructor(private readonly clock: Clock) {}

    add(rule: FaultRule): string {
        const id = `fault-${this.nextId++}`;
        this.rules.push({ id, rule, seen: 0, remaining: rule.times ?? 1 });
        return id;
    }

    remove(id: string): boolean {
        const before = this.rules.length;
        this.rules = this.rules.filter((active) => active.id !== id);
        return this.rules.length < before;
    }

    clear(): void {
        this.rules = [];
    }

    list(): { id: string; rule: FaultRule; remaining: number }[] {
        return this.rules.map(({ id, rule, remaining }) => ({ id, rule, remaining }));
    }

    throttle(rule: ThrottleRule): void {
        if (!(rule.ratePerSecond >= 0)) throw new Error("throttle: ratePerSecond must be a number >= 0");
        this.throttles.push(rule);
    }

    clearThrottle(): void {
        this.throttles = [];
        this.acceptedAt.clear();
    }

    throttledCount(): number {
        return this.throttled;
    }

    /**
     * Decides the fault for one call of `action`. Throttling comes first (a gateway refuses before
     * the service sees the call); then the first rule, in insertion order, that matches and has
     * passed its `afterCalls` fires. Every matching rule counts the call toward its `afterCalls`.
     */
    next(action: string): FaultOutcome {
        if (this.isThrottled(action)) {
            this.throttled += 1;
            return { error: errors.throttlingUser() };
        }
        let fired: FaultRule | undefined;
        for (const active of this.rules) {
            if (!matches(active.rule.action, action)) continue;
            active.seen += 1;
            if (fired || active.seen <= (active.rule.afterCalls ?? 0) || active.remaining <= 0) continue;
            active.remaining -= 1;
            fired = active.rule;
        }
        this.rules = this.rules.filter((active) => active.remaining > 0);
        return fired ? outcomeOf(fired) : {};
    }

    /** Sliding one-second window per action; a refused call does not use up quota. */
    private isThrottled(action: string): boolean {
        const limits = this.throttles.filter((t) => matches(t.action, action));
        if (limits.length === 0) return false;
        const now = this.clock.now();
        const recent = (this.acceptedAt.get(action) ?? []).filter((at) => now - at < THROTTLE_WINDOW_MS);
        const rate = Math.min(...limits.map((t) => t.ratePerSecond));
        if (recent.length >= rate) {
            this.acceptedAt.set(action, recent);
            return true;
        }
        recent.push(now);
        this.acceptedAt.set(action, recent);
        return false;
    }
}

function matches(filter: string | string[] | undefined, action: string): boolean {
    if (filter === undefined) return true;
    return Array.isArray(filter) ? filter.includes(action) : filter === action;
}

function outcomeOf(rule: FaultRule): FaultOutcome {
    const outcome: FaultOutcome = {
        delayMs: rule.delayMs,
        answerAfterMs: rule.answerAfterMs,
        dropConnection: rule.dropConnection,
        resetMidResponse: rule.resetMidResponse,
        instanceFailures: rule.instanceFailures,
        gatewayStatus: rule.gatewayStatus,
        gatewayAfterProcessing: rule.gatewayAfterProcessing,
    };
    if (rule.code !== undefined || rule.status !== undefined) {
        outcome.error = errorForCode(rule.code ?? codeForStatus(rule.status ?? 500), rule.status);
    }
    return outcome;
}
