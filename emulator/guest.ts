/**
 * What runs inside an instance, as far as key pairs go: the `authorized_keys` lines of each login
 * user and the Cloud Assistant agent. At boot, cloud-init's AliYun datasource writes the bound key
 * from the metadata service (ecs-api.md §12.2): the line it wrote at the previous boot goes, the
 * bound key's line comes. Nothing here ever executes anything.
 */
import { keyOf } from "./publickeys";

export class Guest {
    /** Per user, the lines of `~/.ssh/authorized_keys` in order. */
    readonly authorizedKeys = new Map<string, string[]>();
    /** The line the last boot wrote from the metadata service (for the default user). */
    private metadataKeyLine?: string;

    constructor(
        users: readonly string[],
        authorizedKeys: Readonly<Record<string, readonly string[]>>,
        public cloudAssistant: boolean,
    ) {
        for (const user of users) this.authorizedKeys.set(user, []);
        for (const [user, lines] of Object.entries(authorizedKeys)) this.authorizedKeys.set(user, [...lines]);
    }

    hasUser(user: string): boolean {
        return this.authorizedKeys.has(user);
    }

    /** The boot's metadata step: replace the previous metadata key line by `publicKey` (none when unbound). */
    boot(publicKey: string | undefined): void {
        const lines = this.authorizedKeys.get(DEFAULT_USER) ?? [];
        const kept = this.metadataKeyLine === undefined ? lines : lines.filter((line) => keyOf(line) !== keyOf(this.metadataKeyLine ?? ""));
        if (publicKey !== undefined && !kept.some((line) => keyOf(line) === keyOf(publicKey))) kept.push(publicKey);
        this.authorizedKeys.set(DEFAULT_USER, kept);
        this.metadataKeyLine = publicKey;
    }

    /** Adds `line` for `user` unless its key is already there (idempotent); the user must exist. */
    addKey(user: string, line: string): void {
        const lines = this.require(user);
        if (!lines.some((existing) => keyOf(existing) === keyOf(line))) lines.push(line);
    }

    /** Removes every line of `user` that carries the key of `line`; other lines stay exactly as they were. */
    removeKey(user: string, line: string): void {
        const key = keyOf(line);
        this.authorizedKeys.set(
            user,
            this.require(user).filter((existing) => keyOf(existing) !== key),
        );
    }

    /** The keys that log on as `user` now, newest last. */
    keys(user = DEFAULT_USER): string[] {
        return (this.authorizedKeys.get(user) ?? []).map(keyOf).filter((key): key is string => key !== undefined);
    }

    snapshot(): Record<string, string[]> {
        return Object.fromEntries([...this.authorizedKeys].map(([user, lines]) => [user, [...lines]]));
    }

    private require(user: string): string[] {
        const lines = this.authorizedKeys.get(user);
        if (!lines) throw new Error(`no such user: ${user}`);
        return lines;
    }
}

/** The user cloud-init writes the metadata key for on Alibaba Cloud Linux images. */
export const DEFAULT_USER = "root";
