/**
 * A client-side rate limit per ECS action, shared by every resource of one provider process. ECS
 * throttles per API, per region and per account (ecs-api.md §7) at rates it does not publish, so
 * the limit is learned: unlimited until the first throttling error, then cut to 70 % of the rate
 * that was being sent, and raised again a little with every success (additive increase,
 * multiplicative decrease — as in the AWS SDK's adaptive retry mode).
 */

import { Clock, realClock } from "../clock";

/** Never slower than this, in calls per second: ECS's guidance is to probe a throttled API at 1 QPS. */
export const MIN_RATE_PER_SECOND = 1;
const DECREASE_FACTOR = 0.7;
/** Calls per second added per successful call once a limit is in force. */
const INCREASE_PER_SUCCESS = 0.2;
/** Throttling answers to calls sent in one burst count as one signal. */
const DECREASE_COOLDOWN_MS = 1000;
const RATE_WINDOW_MS = 1000;

export class AdaptiveRateLimiter {
    private ratePerSecond = Infinity;
    private nextSlotAt = 0;
    private lastDecreaseAt = -Infinity;
    private readonly recentSends: number[] = [];

    constructor(
        private readonly clock: Clock = realClock,
        initialRatePerSecond = Infinity,
    ) {
        this.ratePerSecond = initialRatePerSecond;
    }

    /** Current limit in calls per second (Infinity until ECS first throttles). */
    rate(): number {
        return this.ratePerSecond;
    }

    /** Waits for a slot, then counts one call as sent. */
    async acquire(): Promise<void> {
        const now = this.clock.now();
        if (Number.isFinite(this.ratePerSecond)) {
            const at = Math.max(now, this.nextSlotAt);
            this.nextSlotAt = at + 1000 / this.ratePerSecond;
            if (at > now) await this.clock.sleep(at - now);
        }
        this.recordSend();
    }

    /** Resolves when a slot is free, without taking it: callers queue more work meanwhile. */
    async ready(): Promise<void> {
        const waitMs = this.nextSlotAt - this.clock.now();
        if (Number.isFinite(this.ratePerSecond) && waitMs > 0) await this.clock.sleep(waitMs);
    }

    onThrottled(): void {
        const now = this.clock.now();
        if (now - this.lastDecreaseAt < DECREASE_COOLDOWN_MS) return;
        this.lastDecreaseAt = now;
        const sending = Math.min(this.ratePerSecond, this.sentInLastWindow());
        this.ratePerSecond = Math.max(MIN_RATE_PER_SECOND, sending * DECREASE_FACTOR);
    }

    onSuccess(): void {
        if (Number.isFinite(this.ratePerSecond)) this.ratePerSecond += INCREASE_PER_SUCCESS;
    }

    private recordSend(): void {
        const now = this.clock.now();
        this.recentSends.push(now);
        while (this.recentSends.length && this.recentSends[0] <= now - RATE_WINDOW_MS) this.recentSends.shift();
    }

    private sentInLastWindow(): number {
        const since = this.clock.now() - RATE_WINDOW_MS;
        return Math.max(MIN_RATE_PER_SECOND, this.recentSends.filter((t) => t > since).length);
    }
}

/** One limiter per action for the whole provider process. */
export class RateLimiters {
    private readonly byAction = new Map<string, AdaptiveRateLimiter>();

    constructor(private readonly clock: Clock = realClock) {}

    /**
     * An action seen for the first time starts at the lowest rate learned for the others: ECS counts
     * each API separately, but an account throttled on one API is likely near the quota of the next
     * (a destroy's DetachKeyPair burst after a throttled create, say).
     */
    for(action: string): AdaptiveRateLimiter {
        let limiter = this.byAction.get(action);
        if (!limiter) {
            const learned = Math.min(...[...this.byAction.values()].map((l) => l.rate()));
            limiter = new AdaptiveRateLimiter(this.clock, learned);
            this.byAction.set(action, limiter);
        }
        return limiter;
    }
}
