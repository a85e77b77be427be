/**
 * A client-side rate limit per ECS action, shared by every resource of one provider process. ECS
 * throttles per API, per region and per account (ecs-api.md §7) at rates it does not publish, so
 * the limit is learned: unlimited until the first throttling error, then cut to 70 % of the rate
 * that was being sent, raised a little with every success (additive increase, multiplicative
 * decrease — as in the AWS SDK's adaptive retry mode) and recovering over throttle-free time.
 * Within the limit calls go out as a token bucket holding one second's worth of calls: ECS counts
 * calls per one-second window, so a burst of `rate` calls after a quiet second is within quota.
 * And no more than ⌊rate⌋ calls go out in any one window, counting the calls sent before the
 * throttling answer: that answer says the window ECS counts is full of them, so a retry waits until
 * they have left it instead of being refused again (and backing off ever longer).
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
/** The learned rate doubles for every this many milliseconds without a throttling answer… */
export const RATE_RECOVERY_DOUBLING_MS = 10_000;
/** …and the limit is dropped (unlimited again) after this many milliseconds without one. */
export const RATE_FORGET_AFTER_MS = 60_000;
/** ECS counts a call when it arrives, a little after it left here: the window is taken as this much longer. */
const WINDOW_MARGIN_MS = 50;
/** How long a call counts against the window here: ECS's one second, and the margin. */
export const COUNTED_WINDOW_MS = RATE_WINDOW_MS + WINDOW_MARGIN_MS;
/** The bucket holds this many milliseconds' worth of calls at the current rate (at least one call). */
const BURST_MS = 1000;

export class AdaptiveRateLimiter {
    /** The rate set by the last throttling answer, plus the successes since (Infinity: no limit). */
    private learnedPerSecond: number;
    private throttledAt: number;
    private lastDecreaseAt = -Infinity;
    /** Calls that may go out now; negative when calls are already waiting for their slot. */
    private tokens = 0;
    private refilledAt: number;
    /** When the calls of the last window went out, or will (a call waiting for its slot): ascending. */
    private readonly sends: number[] = [];

    constructor(
        private readonly clock: Clock = realClock,
        initialRatePerSecond = Infinity,
    ) {
        this.learnedPerSecond = initialRatePerSecond;
        this.throttledAt = clock.now();
        this.refilledAt = clock.now();
    }

    /** Current limit in calls per second (Infinity until ECS first throttles, and again once it has not for a while). */
    rate(): number {
        if (!Number.isFinite(this.learnedPerSecond)) return Infinity;
        const quietMs = this.clock.now() - this.throttledAt;
        if (quietMs >= RATE_FORGET_AFTER_MS) return Infinity;
        return this.learnedPerSecond * 2 ** (quietMs / RATE_RECOVERY_DOUBLING_MS);
    }

    /** Waits for a slot, then counts one call as sent. */
    async acquire(): Promise<void> {
        const now = this.clock.now();
        const rate = this.refill();
        let at = now;
        if (Number.isFinite(rate)) {
            this.tokens -= 1;
            if (this.tokens < 0) at += (-this.tokens * 1000) / rate;
            at = Math.max(at, this.windowFreeAt(Math.max(1, Math.floor(rate))), this.sends[this.sends.length - 1] ?? at);
        }
        this.recordSend(now, at);
        if (at > now) await this.clock.sleep(at - now);
    }

    /** Resolves when a slot is free, without taking it: callers queue more work meanwhile. */
    async ready(): Promise<void> {
        const now = this.clock.now();
        const rate = this.refill();
        if (!Number.isFinite(rate)) return;
        const tokenAt = this.tokens < 1 ? now + ((1 - this.tokens) * 1000) / rate : now;
        const at = Math.max(tokenAt, this.windowFreeAt(Math.max(1, Math.floor(rate))));
        if (at > now) await this.clock.sleep(at - now);
    }

    onThrottled(): void {
        const now = this.clock.now();
        if (now - this.lastDecreaseAt < DECREASE_COOLDOWN_MS) return;
        this.lastDecreaseAt = now;
        const sending = Math.min(this.rate(), this.sentInLastWindow());
        this.learnedPerSecond = Math.max(MIN_RATE_PER_SECOND, sending * DECREASE_FACTOR);
        this.throttledAt = now;
        // The window ECS counts is spent: the bucket starts empty (calls already waiting keep their place).
        this.refilledAt = now;
        this.tokens = Math.min(this.tokens, 0);
    }

    onSuccess(): void {
        if (Number.isFinite(this.rate())) this.learnedPerSecond += INCREASE_PER_SUCCESS;
    }

    /** Adds the tokens earned since the last refill, up to one burst; returns the current rate. */
    private refill(): number {
        const now = this.clock.now();
        const rate = this.rate();
        if (Number.isFinite(rate)) {
            const capacity = Math.max(1, (rate * BURST_MS) / 1000);
            this.tokens = Math.min(capacity, this.tokens + ((now - this.refilledAt) * rate) / 1000);
        } else {
            this.tokens = 0;
        }
        this.refilledAt = now;
        return rate;
    }

    /** The earliest time a call leaves at most `perWindow` − 1 others in the window before it. */
    private windowFreeAt(perWindow: number): number {
        const blocking = this.sends[this.sends.length - perWindow];
        return blocking === undefined ? -Infinity : blocking + COUNTED_WINDOW_MS;
    }

    private recordSend(now: number, at: number): void {
        this.sends.push(at);
        let stale = 0;
        while (stale < this.sends.length && this.sends[stale] <= now - COUNTED_WINDOW_MS) stale++;
        if (stale) this.sends.splice(0, stale);
    }

    private sentInLastWindow(): number {
        const now = this.clock.now();
        return Math.max(MIN_RATE_PER_SECOND, this.sends.filter((t) => t > now - RATE_WINDOW_MS && t <= now).length);
    }
}

/** One limiter per action for the whole provider process. */
export class RateLimiters {
    private readonly byAction = new Map<string, AdaptiveRateLimiter>();

    constructor(private readonly clock: Clock = realClock) {}

    /**
     * An action seen for the first time starts unlimited: ECS counts each API on its own quota, so
     * a throttled create says nothing about the destroy's DetachKeyPair (it learns its own limit
     * from its own first throttling answer).
     */
    for(action: string): AdaptiveRateLimiter {
        let limiter = this.byAction.get(action);
        if (!limiter) {
            limiter = new AdaptiveRateLimiter(this.clock);
            this.byAction.set(action, limiter);
        }
        return limiter;
    }
}
