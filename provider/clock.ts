/**
 * Time and randomness, injected so that tests of polling, backoff, coalescing, caches and rate
 * limits never sleep for real and never depend on luck. Only `realClock` and `realRandom` touch the
 * wall clock, timers and random numbers; every other module in provider/ is handed one of these.
 */
import { randomBytes } from "crypto";

export interface Clock {
    /** Milliseconds since the epoch. */
    now(): number;
    /** Resolves after `ms` milliseconds. */
    sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface Random {
    /** A uniform number in [0, 1): backoff jitter. */
    fraction(): number;
    /** `bytes` random bytes as hex: identifiers that must not collide (resource ids). */
    hex(bytes: number): string;
}

export const realRandom: Random = {
    fraction: () => Math.random(),
    hex: (bytes) => randomBytes(bytes).toString("hex"),
};
