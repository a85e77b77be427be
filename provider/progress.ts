/**
 * Progress lines during long work: a rolling restart (wave k of n, instances done of total, elapsed,
 * a simple estimate of the time left) and a long wait for instances to settle. At most one line
 * every PROGRESS_LINE_INTERVAL_MS, so a thousand-instance restart does not flood the CLI; a short
 * operation (one wave, or a wait that ends soon) prints nothing — its summary line says it all.
 * Time comes from the injected Clock only.
 */
import { Clock } from "./clock";
import { describeIds } from "./messages";
import { RestartObserver, RestartProgressEvent } from "./restart";

/** At most one progress line per this many milliseconds (a wave's start and end). */
export const PROGRESS_LINE_INTERVAL_MS = 5_000;
/**
 * While a wave is awaited, a line after this many milliseconds without one (an ECS reboot takes
 * tens of seconds: the CLI should not look stuck for a minute, nor chatter every poll).
 */
export const PROGRESS_HEARTBEAT_MS = 30_000;
/** Work of a single wave (or a single wait) reports only once it has lasted this long, in milliseconds. */
export const LONG_WORK_MS = 15_000;
/** Wave lists name at most this many instances (the rest are counted). */
const WAVE_IDS_SHOWN = 5;

/** `4 s`, `2 min 5 s`, `1 h 3 min`: whole seconds, the two largest units. */
export function formatDuration(ms: number): string {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Rate-limits the lines of one piece of work: the first line that is worth printing goes out, then one per interval. */
class LineLimiter {
    private readonly startedAtMs: number;
    private lastLineAtMs?: number;

    constructor(
        private readonly clock: Clock,
        private readonly log: (line: string) => void,
        private readonly intervalMs: number,
    ) {
        this.startedAtMs = clock.now();
    }

    elapsedMs(): number {
        return this.clock.now() - this.startedAtMs;
    }

    /** Prints `line()` unless a line went out less than `gapMs` (default: the interval) ago. */
    offer(line: () => string, gapMs = this.intervalMs): void {
        const now = this.clock.now();
        if (this.lastLineAtMs !== undefined && now - this.lastLineAtMs < Math.max(gapMs, this.intervalMs)) return;
        this.lastLineAtMs = now;
        this.log(line());
    }
}

export interface ProgressOptions {
    intervalMs?: number;
    heartbeatMs?: number;
    longWorkMs?: number;
}

/** The progress of one restart (all its waves), as lines for `log`. */
export class RestartProgress implements RestartObserver {
    private readonly lines: LineLimiter;
    private readonly longWorkMs: number;
    private readonly heartbeatMs: number;

    /** `subject` names the work, e.g. `KeyPairAttachment for key pair "ops" in cn-hangzhou`. */
    constructor(
        clock: Clock,
        log: (line: string) => void,
        private readonly subject: string,
        options: ProgressOptions = {},
    ) {
        this.lines = new LineLimiter(clock, log, options.intervalMs ?? PROGRESS_LINE_INTERVAL_MS);
        this.longWorkMs = options.longWorkMs ?? LONG_WORK_MS;
        this.heartbeatMs = options.heartbeatMs ?? PROGRESS_HEARTBEAT_MS;
    }

    waveStarted(event: RestartProgressEvent): void {
        this.report(event, `restart wave ${event.wave} of ${event.waves} started (${describeIds(event.instanceIds, WAVE_IDS_SHOWN)})`);
    }

    wavePolled(event: RestartProgressEvent): void {
        this.report(event, `restart wave ${event.wave} of ${event.waves} waiting for instances to be Running again`, this.heartbeatMs);
    }

    waveEnded(event: RestartProgressEvent): void {
        this.report(event, `restart wave ${event.wave} of ${event.waves} ended`);
    }

    /** A rolling restart always reports; a single wave only once it has lasted long. */
    private report(event: RestartProgressEvent, what: string, gapMs?: number): void {
        if (event.waves < 2 && this.lines.elapsedMs() < this.longWorkMs) return;
        this.lines.offer(() => {
            const elapsedMs = this.lines.elapsedMs();
            // A simple estimate: the rate so far, applied to the instances not yet done.
            const left =
                event.done > 0 && event.done < event.total
                    ? `, about ${formatDuration((elapsedMs / event.done) * (event.total - event.done))} left`
                    : "";
            return `${this.subject}: ${what}; ${event.done} of ${event.total} instance(s) restarted; ${formatDuration(elapsedMs)} elapsed${left}.`;
        }, gapMs);
    }
}

/** The progress of a wait for instances to leave a transitional state: silent unless it lasts long. */
export function waitProgress(
    clock: Clock,
    log: (line: string) => void,
    subject: string,
    total: number,
    options: ProgressOptions = {},
): (waiting: readonly string[]) => void {
    const lines = new LineLimiter(clock, log, options.intervalMs ?? PROGRESS_LINE_INTERVAL_MS);
    const longWorkMs = options.longWorkMs ?? LONG_WORK_MS;
    const heartbeatMs = options.heartbeatMs ?? PROGRESS_HEARTBEAT_MS;
    return (waiting) => {
        if (waiting.length === 0 || lines.elapsedMs() < longWorkMs) return;
        // The first line as soon as the wait counts as long, then one per heartbeat.
        lines.offer(
            () =>
                `${subject}: waiting for ${waiting.length} of ${total} instance(s) to leave a transitional state ` +
                `(${describeIds(waiting, WAVE_IDS_SHOWN)}); ${formatDuration(lines.elapsedMs())} elapsed.`,
            heartbeatMs,
        );
    };
}
