/** The log of API calls the emulator received, for tests and the control API. */

export interface ApiCall {
    action: string;
    /** Query and form parameters; a `Password` is recorded as "******". */
    params: Record<string, string>;
    /** HTTP status sent; 0 when the connection was dropped without a response. */
    status: number;
    code?: string;
    at: number;
    instanceIds: string[];
}

export function countByAction(calls: readonly ApiCall[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of calls) counts[call.action] = (counts[call.action] ?? 0) + 1;
    return counts;
}
