/**
 * Merges the requests of concurrent callers — the many attachments one `pulumi up` runs in a single
 * provider process — into shared API calls. Items asked for under one key (an action, a region, a
 * key pair) are queued; the queue is sent in batches of at most `maxBatch` once a batch is full or
 * no item joined for the short idle window (at most `maxWaitMs` in all), and the action's rate limit
 * has a slot. While a throttled action waits for its slot, more
 * items join the batch, so calls get fuller exactly when calls are scarce.
 *
 * Merging must not let one caller's bad item fail the others: a request-level error that `isolate`
 * says one item causes is kept to the callers that sent that item (those the error names, or, when
 * it names none, each caller's items are sent on their own), and the rest are sent again.
 */
import type { Clock } from "../clock";

export type Settled<R> = { ok: true; value: R | undefined } | { ok: false; error: unknown };

/** The answers that arrived, by item, and the items whose call failed (with one of their errors). */
export function splitSettled<R>(settled: Iterable<[string, Settled<R>]>): { values: Map<string, R>; failed: string[]; cause: unknown } {
    const values = new Map<string, R>();
    const failed: string[] = [];
    let cause: unknown;
    for (const [item, outcome] of settled) {
        if (!outcome.ok) {
            failed.push(item);
            cause = outcome.error;
        } else if (outcome.value !== undefined) {
            values.set(item, outcome.value);
        }
    }
    return { values, failed, cause };
}

export interface CoalescerOptions<I = unknown> {
    maxBatch: number;
    /**
     * Idle window, in milliseconds: a queue is sent once no item joined it for this long (or once it
     * fills a batch), so requests arriving one after another still share calls. Asked as each queue
     * starts gathering when a function (0: send at once).
     */
    windowMs: number | (() => number);
    /** The longest a queue waits for more items while they keep arriving, in milliseconds (default: `windowMs`). */
    maxWaitMs?: number;
    /** Batches of one key in flight at once (asked before each batch: it may follow the key's rate limit). */
    concurrency: number | ((key: string) => number);
    /** Resolves when the key's action may send again (the rate limiter's slot). */
    ready: (key: string) => Promise<void>;
    /**
     * True while other calls are in flight: their answers are what releases more requests (each
     * resource takes its next step when its last call is answered), so a queue keeps gathering
     * past an idle window while this holds, up to `maxWaitMs`.
     */
    busy?: () => boolean;
    /** Waits out the window. */
    clock: Pick<Clock, "sleep">;
    /** True for a request-level error that one of the items causes (not the request as a whole). */
    isolate?: (error: unknown) => boolean;
    /** The items such an error names, if any (e.g. the instance id in its message). */
    culprits?: (error: unknown, items: readonly I[]) => I[];
}

interface Waiter<I, R> {
    /**
     * Every item of the waiter in the order asked, its result once settled (undefined until then);
     * handed over as it is when none is unsettled, so it is built once.
     */
    results: Map<I, Settled<R> | undefined>;
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
        private readonly options: CoalescerOptions<I>,
        private readonly send: BatchSender<I, R>,
    ) {}

    /** Every item's result or error; resolves once all of the caller's items are settled. */
    request(key: string, items: readonly I[]): Promise<Map<I, Settled<R>>> {
        // Each item once, in the order first asked (Map keeps the first position of a key set twice).
        const results = new Map<I, Settled<R> | undefined>();
        for (const item of items) results.set(item, undefined);
        if (results.size === 0) return Promise.resolve(new Map<I, Settled<R>>());
        let queue = this.queues.get(key);
        if (!queue) {
            queue = { pending: [], waitersOf: new Map(), draining: false, arrivals: 0 };
            this.queues.set(key, queue);
        }
        const q = queue;
        const promise = new Promise<Map<I, Settled<R>>>((resolve) => {
            const waiter: Waiter<I, R> = { results, unsettled: results.size, resolve };
            // An item already sent is asked again: a waiter only takes answers to calls sent after it asked.
            for (const item of results.keys()) {
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

    /**
     * Waits until a batch is full, no item joined for the window, or `budgetMs` (what is left of the
     * longest wait) has passed. `full`: it ended because a batch filled, with time left to gather.
     */
    private async gather(queue: Queue<I, R>, budgetMs: number): Promise<{ waitedMs: number; full: boolean }> {
        const { maxBatch } = this.options;
        const windowMs = this.windowMs();
        let waitedMs = 0;
        if (windowMs <= 0) return { waitedMs, full: false };
        while (queue.pending.length < maxBatch && waitedMs < budgetMs) {
            const seen = queue.arrivals;
            const stepMs = Math.min(windowMs, budgetMs - waitedMs);
            const full = new Promise<void>((resolve) => (queue.onFull = resolve));
            await Promise.race([this.options.clock.sleep(stepMs), full]);
            queue.onFull = undefined;
            waitedMs += stepMs;
            if (queue.arrivals === seen && !this.options.busy?.()) return { waitedMs, full: false };
        }
        return { waitedMs, full: queue.pending.length >= maxBatch && waitedMs < budgetMs };
    }

    private windowMs(): number {
        const { windowMs } = this.options;
        return typeof windowMs === "function" ? windowMs() : windowMs;
    }

    /**
     * Sends the queue: full batches as soon as they are full; a partial batch only once gathering is
     * over (no item joined for the window, or the longest wait spent). So when items arrive in clumps
     * (each resource's request, released by the answer of a shared call), the remainder of a full
     * batch keeps gathering instead of leaving as a call of its own.
     */
    private async drain(key: string, queue: Queue<I, R>): Promise<void> {
        queue.draining = true;
        const { maxBatch } = this.options;
        const windowMs = this.windowMs();
        let budgetMs = Math.max(windowMs, this.options.maxWaitMs ?? windowMs);
        const inFlight = new Set<Promise<void>>();
        for (;;) {
            const gathered = await this.gather(queue, budgetMs);
            budgetMs -= gathered.waitedMs;
            const partialToo = !gathered.full;
            while (queue.pending.length >= maxBatch || (partialToo && queue.pending.length)) {
                if (inFlight.size >= this.concurrency(key)) await Promise.race(inFlight);
                await this.options.ready(key);
                const batch = queue.pending.splice(0, maxBatch);
                const waiters = batch.map((item) => queue.waitersOf.get(item) ?? []);
                for (const item of batch) queue.waitersOf.delete(item);
                const flight: Promise<void> = this.sendBatch(key, batch, waiters).finally(() => inFlight.delete(flight));
                inFlight.add(flight);
            }
            if (partialToo || queue.pending.length === 0) break;
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

    /** `waiters[i]`: who waits for `batch[i]` (taken from the queue when the batch left it). */
    private async sendBatch(key: string, batch: I[], waiters: Waiter<I, R>[][]): Promise<void> {
        let results: Map<I, R>;
        try {
            results = await this.send(key, batch);
        } catch (error) {
            const settled = await this.settleFailed(key, batch, [...new Set(waiters.flat())], error);
            batch.forEach((item, index) => this.release(item, settled.get(item)!, waiters[index]));
            return;
        }
        // The common case, released straight from the answer.
        for (let index = 0; index < batch.length; index++) {
            this.release(batch[index], { ok: true, value: results.get(batch[index]) }, waiters[index]);
        }
    }

    /** Sends one batch and settles its items, keeping an error one caller's item caused to that caller. */
    private async settle(key: string, batch: I[], waiters: readonly Waiter<I, R>[]): Promise<Map<I, Settled<R>>> {
        let results: Map<I, R>;
        try {
            results = await this.send(key, batch);
        } catch (error) {
            return this.settleFailed(key, batch, waiters, error);
        }
        return new Map(batch.map((item) => [item, { ok: true, value: results.get(item) }]));
    }

    /** Settles a batch whose call failed: an error one caller's items caused stays theirs, the others are sent again. */
    private async settleFailed(key: string, batch: I[], waiters: readonly Waiter<I, R>[], error: unknown): Promise<Map<I, Settled<R>>> {
        const failAll = (items: readonly I[]) => new Map<I, Settled<R>>(items.map((item) => [item, { ok: false, error }]));
        const groups = callerGroups(batch, waiters);
        if (groups.length < 2 || !this.options.isolate?.(error)) return failAll(batch);
        const named = new Set(this.options.culprits?.(error, batch) ?? []);
        const guilty = groups.filter((group) => group.some((item) => named.has(item)));
        const resend = guilty.length ? [groups.filter((g) => !guilty.includes(g)).flat()] : groups;
        const settled = failAll(guilty.flat());
        const again = await Promise.all(
            resend
                .filter((items) => items.length)
                .map(async (items) => {
                    await this.options.ready(key);
                    return this.settle(key, items, waiters);
                }),
        );
        for (const [item, outcome] of again.flatMap((m) => [...m])) settled.set(item, outcome);
        return settled;
    }

    /** Gives an item's result to its waiters; a waiter whose items are all settled gets its results. */
    private release(item: I, outcome: Settled<R>, waiters: readonly Waiter<I, R>[]): void {
        for (const waiter of waiters) {
            waiter.results.set(item, outcome);
            if (--waiter.unsettled === 0) waiter.resolve(waiter.results as Map<I, Settled<R>>);
        }
    }
}

/** The items of a batch grouped by the caller that asked for them (the first, when two asked). */
function callerGroups<I, R>(batch: readonly I[], waiters: readonly Waiter<I, R>[]): I[][] {
    const groups = new Map<number, I[]>();
    batch.forEach((item, index) => {
        // A waiter's results hold exactly its items.
        const owner = waiters.findIndex((waiter) => waiter.results.has(item));
        const group = owner >= 0 ? owner : waiters.length + index;
        const items = groups.get(group);
        if (items) items.push(item);
        else groups.set(group, [item]);
    });
    return [...groups.values()];
}
