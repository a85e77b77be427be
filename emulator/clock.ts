/** Time source of the emulator. Every transition and signature-window check reads it. */
export interface Clock {
    now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that only moves when a test moves it. Instance status is derived from the clock at read
 * time, so advancing it is all a test needs to walk through a reboot — no timers, no real sleeps.
 */
export class ManualClock implements Clock {
    constructor(private current = Date.now()) {}

    now(): number {
        return this.current;
    }

    advance(ms: number): void {
        this.current += ms;
    }

    set(epochMs: number): void {
        this.current = epochMs;
    }
}
