/** The two paging styles of ECS list actions, shared by every Describe* the emulator implements. */
import { errors } from "../errors";
import type { Params } from "../params";

export interface CursorLimits {
    /** MaxResults is clamped into [minResults, maxResults] (DescribeInstances: 10..100). */
    minResults: number;
    maxResults: number;
    /** PageSize above this is refused. */
    maxPageSize: number;
}

/**
 * `NextToken`/`MaxResults` win over the older `PageNumber`/`PageSize` (ecs-api.md §2.3). NextToken
 * is an opaque offset cursor here, and "" on the last page as REAL captures show.
 */
export function cursorPage<T>(params: Params, items: readonly T[], limits: CursorLimits) {
    const token = params.optional("NextToken");
    const maxResults = params.optional("MaxResults");
    let offset: number;
    let size: number;
    if (token !== undefined || maxResults !== undefined) {
        offset = token === undefined ? 0 : decodeNextToken(token);
        const requested = Number(maxResults ?? 10);
        size = Number.isFinite(requested) ? Math.min(limits.maxResults, Math.max(limits.minResults, Math.trunc(requested))) : 10;
    } else {
        size = params.int("PageSize", { min: 1, max: limits.maxPageSize, default: 10 });
        offset = (params.int("PageNumber", { min: 1, max: Number.MAX_SAFE_INTEGER, default: 1 }) - 1) * size;
    }
    const nextOffset = offset + size;
    return {
        /** The paging fields of the response body. */
        body: {
            TotalCount: items.length,
            PageNumber: Math.floor(offset / size) + 1,
            PageSize: size,
            NextToken: nextOffset < items.length ? Buffer.from(`offset:${nextOffset}`).toString("base64url") : "",
        },
        items: items.slice(offset, offset + size),
    };
}

function decodeNextToken(token: string): number {
    const match = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
    if (!match) throw errors.invalidParameter("NextToken", "Use the NextToken of the previous response.");
    return Number(match[1]);
}

/**
 * PageNumber/PageSize paging (DescribeKeyPairs and DescribeInstanceStatus: PageSize 1..50, default
 * 10). Out-of-range values are refused, not clamped, so a client bug shows up in tests.
 */
export function numberedPage<T>(params: Params, items: readonly T[], maxPageSize: number) {
    const pageNumber = params.int("PageNumber", { min: 1, max: Number.MAX_SAFE_INTEGER, default: 1 });
    const pageSize = params.int("PageSize", { min: 1, max: maxPageSize, default: 10 });
    return {
        /** The paging fields of the response body. */
        body: { PageNumber: pageNumber, PageSize: pageSize, TotalCount: items.length },
        items: items.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
    };
}
