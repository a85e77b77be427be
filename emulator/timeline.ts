/**
 * What a value was at a past time, for DescribeInstances under `consistencyDelayMs`: ECS shows a
 * change a moment after it happened (ecs-api.md §12.4), so the lagging view reads these.
 */
export class Timeline<T> {
    private readonly entries: { at: number; value: T }[] = [];

    constructor(at: number, value: T) {
        this.entries.push({ at, value });
    }

    /** Records `value` from `at` on; entries planned after `at` (a transition's later phases) are dropped. */
    set(at: number, value: T): void {
        while (this.entries.length > 1 && this.entries[this.entries.length - 1].at > at) this.entries.pop();
        this.plan(at, value);
    }

    /** Plans `value` from `at` on without dropping what is already planned before it. */
    plan(at: number, value: T): void {
        this.entries.push({ at, value });
        // A bounded history is enough: the lag is seconds, changes per instance are few.
        if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    }

    valueAt(at: number): T {
        let value = this.entries[0].value;
        for (const entry of this.entries) {
            if (entry.at > at) break;
            value = entry.value;
        }
        return value;
    }
}

const MAX_ENTRIES = 64;
