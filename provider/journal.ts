/**
 * A write-ahead note of the restarts a run owes, kept outside the Pulumi state. If the whole
 * `pulumi up` dies after AttachKeyPair and before the reboots, the engine never hears back from
 * create and the state loses the resource (`refresh --clear-pending-creates`); the next create finds
 * the instances already bound and could not know that their new key is not in effect. The journal
 * tells it: the Running instances noted here get the restart they were owed.
 *
 * Each note names the process that wrote it. A note whose writer is still alive is work in
 * progress, not a debt: a CLI killed alone leaves its provider running to finish its restarts, and
 * the next run must not restart those instances a second time.
 *
 * One small JSON file per region and key pair. Writes are atomic (temp file + rename); a journal
 * that cannot be read or written never fails an operation — it only loses this protection, which is
 * said in the provider's output.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import type { InstanceFacts } from "./ecs/instance";

export interface RestartJournal {
    /**
     * Instances noted as owed a restart for this key pair. `facts`: what DescribeInstances showed of
     * the instances just now (a journal kept in ECS tags reads its notes from them).
     */
    owed(region: string, keyPairName: string, facts: ReadonlyMap<string, InstanceFacts>): Promise<Set<string>>;
    /** Notes the instances about to be bound (before AttachKeyPair is sent), as `facts` show them now. */
    note(region: string, keyPairName: string, instanceIds: readonly string[], facts: ReadonlyMap<string, InstanceFacts>): Promise<void>;
    /**
     * Forgets the instances: restarted, or owed in the Pulumi state itself now. `facts`: what
     * DescribeInstances showed of them (notes a lost run left on them are forgotten too).
     */
    settle(region: string, keyPairName: string, instanceIds: readonly string[], facts?: ReadonlyMap<string, InstanceFacts>): Promise<void>;
}

/** `$PULUMI_HOME/keypair-attachment/journal` (PULUMI_HOME defaults to ~/.pulumi, as for the CLI). */
export function defaultJournalDir(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(env.PULUMI_HOME || path.join(os.homedir(), ".pulumi"), "keypair-attachment", "journal");
}

interface JournalFile {
    region: string;
    keyPairName: string;
    /** Instance id → the process that noted it. */
    notes: Record<string, { pid: number }>;
}

export interface JournalOptions {
    /** The process id written into notes (default: this process). */
    pid?: number;
    /** Whether a process is still running (default: signal 0). */
    isAlive?: (pid: number) => boolean;
}

function processIsAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

type Update = (notes: Record<string, { pid: number }>) => Record<string, { pid: number }>;

export class FileRestartJournal implements RestartJournal {
    /**
     * Updates waiting for each file. Concurrent attachments share files; they are applied together
     * in one write (a group commit), so that the journal never spreads their calls apart in time.
     */
    private readonly pending = new Map<string, { update: Update; done: () => void }[]>();

    private readonly pid: number;
    private readonly isAlive: (pid: number) => boolean;
    private readonly reads = new Map<string, Promise<JournalFile | undefined>>();
    /** Names this process's temporary files apart (with the pid: no two writers share a name). */
    private writes = 0;

    constructor(
        private readonly dir: string,
        private readonly warn: (message: string) => void = () => undefined,
        options: JournalOptions = {},
    ) {
        this.pid = options.pid ?? process.pid;
        this.isAlive = options.isAlive ?? processIsAlive;
    }

    /** Noted instances whose writer is gone: their restart is owed. Concurrent asks share one read. */
    async owed(region: string, keyPairName: string): Promise<Set<string>> {
        const file = this.file(region, keyPairName);
        let reading = this.reads.get(file);
        if (!reading) {
            reading = this.read(file).finally(() => this.reads.delete(file));
            this.reads.set(file, reading);
        }
        const notes = (await reading)?.notes ?? {};
        return new Set(
            Object.entries(notes)
                .filter(([, note]) => !this.isAlive(note.pid))
                .map(([id]) => id),
        );
    }

    note(region: string, keyPairName: string, instanceIds: readonly string[]): Promise<void> {
        return this.change(region, keyPairName, (notes) => ({
            ...notes,
            ...Object.fromEntries(instanceIds.map((id) => [id, { pid: this.pid }])),
        }));
    }

    settle(region: string, keyPairName: string, instanceIds: readonly string[]): Promise<void> {
        const done = new Set(instanceIds);
        return this.change(region, keyPairName, (notes) => Object.fromEntries(Object.entries(notes).filter(([id]) => !done.has(id))));
    }

    private file(region: string, keyPairName: string): string {
        const digest = createHash("sha256").update(`${region}\0${keyPairName}`).digest("hex").slice(0, 24);
        return path.join(this.dir, `${digest}.json`);
    }

    private change(region: string, keyPairName: string, update: Update): Promise<void> {
        const file = this.file(region, keyPairName);
        return new Promise((done) => {
            const queue = this.pending.get(file);
            if (queue) {
                queue.push({ update, done });
                return;
            }
            this.pending.set(file, [{ update, done }]);
            void this.flush(file, { region, keyPairName });
        });
    }

    /** Applies every waiting update of one file in one atomic write, until none is left. */
    private async flush(file: string, key: Omit<JournalFile, "notes">): Promise<void> {
        await Promise.resolve(); // let the updates made in the same tick join this write
        const batch = this.pending.get(file) ?? [];
        this.pending.set(file, []);
        try {
            let notes = (await this.read(file))?.notes ?? {};
            for (const { update } of batch) notes = update(notes);
            await this.write(file, { ...key, notes });
        } catch (error) {
            this.warn(
                `KeyPairAttachment: the restart journal ${file} could not be written (${(error as Error).message}); an interrupted run may leave restarts undone.`,
            );
        }
        for (const { done } of batch) done();
        if ((this.pending.get(file) ?? []).length) void this.flush(file, key);
        else this.pending.delete(file);
    }

    private async write(file: string, content: JournalFile): Promise<void> {
        if (Object.keys(content.notes).length === 0) {
            await fs.promises.rm(file, { force: true });
            return;
        }
        await fs.promises.mkdir(this.dir, { recursive: true });
        const temp = `${file}.${this.pid}-${++this.writes}.tmp`;
        await fs.promises.writeFile(temp, JSON.stringify(content));
        await fs.promises.rename(temp, file);
    }

    private async read(file: string): Promise<JournalFile | undefined> {
        try {
            const content = JSON.parse(await fs.promises.readFile(file, "utf8")) as JournalFile;
            return content.notes && typeof content.notes === "object" ? content : undefined;
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
                this.warn(`KeyPairAttachment: the restart journal ${file} could not be read (${(error as Error).message}); ignoring it.`);
            }
            return undefined;
        }
    }
}
