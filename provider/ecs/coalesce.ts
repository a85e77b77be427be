/**
 * Merges the requests of concurrent callers — the many attachments one `pulumi up` runs in a single
 * provider process — into shared API calls. Items asked for under one key (an action, a region, a
 * key pair) are queued; the queue is sent in batches of at most `maxBatch` once a batch is full or
 * no item joined for the short idle window (at most `maxWaitMs` in all), and the action's rate limit
 * has a slot. While a throttled action waits for its slot, more
 * items join the batch, so calls get fuller exactly when calls are scarce.
 */
import type { Clock } from "../clock";

export type Settled<R> = { ok: true; value: R | undefined } | { ok: false; error: unknown };

export interface CoalescerOptions {
    maxBatch: number;
    /**
     * Idle window, in milliseconds: a queue is sent once no item joined it for this long (or once it
     * fills a batch), so requests arriving one after another still share calls.
     */
    windowMs: number;
    /** The longest a queue waits for more items while they keep arriving, in milliseconds (default: `windowMs`). */
    maxWaitMs?: number;
    /** Batches of one key in flight at once (asked before each batch: it may follow the key's rate limit). */
    concurrency: number | ((key: string) => number);
    /** Resolves when the key's action may send again (the rate limiter's slot). */
    ready: (key: string) => Promise<void>;
    /** Waits out the window. */
    clock: Pick<Clock, "sleep">;
}

interface Waiter<I, R> {
    items: I[];
    /** Results of this waiter's items so far; handed over (and dropped here) when none is unsettled. */
    results: Map<I, Settled<R>>;
    unsettled: number;
    resolve: (results: Map<I, Settled<R>>) => void;
}

interface Queue<I, R> {
    pending: I[];
    /** Who waits for each pending item (exactly the pending items); a batch takes its items' waiters along. */
    waitersOf: Map<I, Waiter<I, R>[]>;
    draining: boolean;
    /** Requests that joined so far: the idle window restarts when this moves. */
    arrivals: number;
    /** Wakes a drain waiting for more items as soon as a batch is full. */
    onFull?: () => void;
}

/** Sends one batch; items absent from the returned map have no result (e.g. an instance that does not exist). */
export type BatchSender<I, R> = (key: string, items: I[]) => Promise<Map<I, R>>;

export class Coalescer<I, R> {
    private readonly queues = new Map<string, Queue<I, R>>();

    constructor(
        private readonly options: CoalescerOptions,
        private readonly send: BatchSender<I, R>,
    ) {}

    /** Every item's result or error; resolves once all of the caller's items are settled. */
    request(key: string, items: readonly I[]): Promise<Map<I, Settled<R>>> {
        const unique = [...new Set(items)];
        if (unique.length === 0) return Promise.resolve(new Map<I, Settled<R>>());
        let queue = this.queues.get(key);
        if (!queue) {
            queue = { pending: [], waitersOf: new Map(), draining: false, arrivals: 0 };
            this.queues.set(key, queue);
        }
        const q = queue;
        const promise = new Promise<Map<I, Settled<R>>>((resolve) => {
            const waiter: Waiter<I, R> = { items: unique, results: new Map(), unsettled: unique.length, resolve };
            // An item already sent is asked again: a waiter only takes answers to calls sent after it asked.
            for (const item of unique) {
                const waiters = q.waitersOf.get(item);
                if (waiters) waiters.push(waiter);
                else {
                    q.waitersOf.set(item, [waiter]);
                    q.pending.push(item);
                }
            }
        });
        q.arrivals++;
        if (q.pending.length >= this.options.maxBatch) q.onFull?.();
        if (!q.draining) void this.drain(key, q);
        return promise;
    }

    /** Waits until a batch is full, no item joined for the window, or the longest wait has passed. */
    private async gather(queue: Queue<I, R>): Promise<void> {
        const { windowMs, maxBatch } = this.options;
        const maxWaitMs = Math.max(windowMs, this.options.maxWaitMs ?? windowMs);
        let waitedMs = 0;
        while (queue.pending.length < maxBatch && waitedMs < maxWaitMs) {
            const seen = queue.arrivals;
            const stepMs = Math.min(windowMs, maxWaitMs - waitedMs);
            const full = new Promise<void>((resolve) => (queue.onFull = resolve));
            await Promise.race([this.options.clock.sleep(stepMs), full]);
            queue.onFull = undefined;
            waitedMs += stepMs;
            if (queue.arrivals === seen) return;
        }
    }

    private async drain(key: string, queue: Queue<I, R>): Promise<void> {
        queue.draining = true;
        await this.gather(queue);
        const inFlight = new Set<Promise<void>>();
        while (queue.pending.length) {
            if (inFlight.size >= this.concurrency(key)) await Promise.race(inFlight);
            await this.options.ready(key);
            const batch = queue.pending.splice(0, this.options.maxBatch);
            const waiters = batch.map((item) => queue.waitersOf.get(item) ?? []);
            for (const item of batch) queue.waitersOf.delete(item);
            const flight: Promise<void> = this.sendBatch(key, batch, waiters).finally(() => inFlight.delete(flight));
            inFlight.add(flight);
        }
        await Promise.all(inFlight);
        queue.draining = false;
        // Items queued after the last batch left start a new drain.
        if (queue.pending.length) void this.drain(key, queue);
        else if (queue.waitersOf.size === 0) this.queues.delete(key);
    }

    private concurrency(key: string): number {
        const { concurrency } = this.options;
        return typeof concurrency === "function" ? concurrency(key) : concurrency;
    }

    private async sendBatch(key: string, batch: I[], waiters: Waiter<I, R>[][]): Promise<void> {
        let settled: (item: I) => Settled<R>;
        try {
            const results = await this.send(key, batch);
            settled = (item) => ({ ok: true, value: results.get(item) });
        } catch (error) {
            settled = () => ({ ok: false, error });
        }
        batch.forEach((item, index) => this.release(item, settled(item), waiters[index]));
    }

    /** Gives an item's result to its waiters; a waiter whose items are all settled gets its results. */
    private release(item: I, outcome: Settled<R>, waiters: readonly Waiter<I, R>[]): void {
        for (const waiter of waiters) {
            waiter.results.set(item, outcome);
            if (--waiter.unsettled === 0) waiter.resolve(new Map(waiter.items.map((i) => [i, waiter.results.get(i)!])));
        }
    }
}
