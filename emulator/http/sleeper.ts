/** Real waits for injected delays and latency, all cancelled when the emulator closes. */
export class Sleeper {
    private readonly timers = new Set<NodeJS.Timeout>();

    sleep(ms: number): Promise<void> {
        return new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
                this.timers.delete(timer);
                resolve();
            }, ms);
            this.timers.add(timer);
        });
    }

    cancelAll(): void {
        for (const timer of this.timers) clearTimeout(timer);
        this.timers.clear();
    }
}
