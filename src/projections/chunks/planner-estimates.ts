import { LRUCache } from 'lru-cache';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { SearchFilters } from './search-filters.js';

/**
 * A vector search whose filters leave at most this many chunks (by the planner's estimate) compares the query
 * with each of them (exact nearest neighbours) instead of walking the vector index: it misses nothing, and up to
 * this size it is about as fast as the index's scan. Measured at 100,000 chunks of 512 dimensions, vectors in the
 * row (migration 0011): ~2.6 µs a chunk found through an index (4 ms for a tag on 1,278 chunks, 26 ms for one on
 * 9,949), ~2 µs read sequentially (~200 ms for all), against 23–35 ms p50 for the HNSW scan at ef_search 500
 * with or without a filter (recall@10 ~0.95–0.98): the exact scan of 12,000 chunks takes about the index's p50
 * (~30 ms), steadier than its p95 (~50 ms), and misses nothing. A coach with a small library, a rare tag, a narrow
 * filter. Above it, the index.
 */
export const EXACT_SEARCH_MAX = 12_000;

/**
 * How long the planner's estimate of the chunks a filter set leaves is reused (per ChunkSearch, at most
 * ESTIMATES_MAX filter sets). The estimate comes from the table's statistics, which only ANALYZE (autovacuum)
 * changes; asking again on every search cost a planning round trip, ~0.6 ms, a fifth of a 1 %-filter search at
 * 100,000 chunks. A stale estimate can only choose the slower path, or the index where an exact scan was due,
 * for at most this long; the results stay those of a vector search either way.
 */
export const ESTIMATE_TTL_MS = 60_000;
export const ESTIMATES_MAX = 1_000;

/**
 * Chooses, per part of a vector search, an exact scan or the vector index, from the planner's estimate of the
 * chunks the filters leave (the statistics of coach_id, tags, document_type…; one planning round trip, no
 * execution, then cached).
 */
export class ScanChoice {
  /** The planner's row estimates, by filter SQL and parameters (see ESTIMATE_TTL_MS). */
  private readonly estimates = new LRUCache<string, number>({ max: ESTIMATES_MAX, ttl: ESTIMATE_TTL_MS });

  /** For each of the filters' parts, whether it leaves at most `few` chunks and is to be scanned exactly. */
  async exactParts(tx: SqlExecutor, filters: SearchFilters, few: number): Promise<boolean[]> {
    const exact: boolean[] = [];
    for (const bound of filters.bounds) exact.push((await this.estimate(tx, bound, filters.params)) <= few);
    return exact;
  }

  /** The planner's estimate of the rows of `chunks c WHERE bound` (one EXPLAIN, nothing executed), cached. */
  private async estimate(tx: SqlExecutor, bound: string, params: unknown[]): Promise<number> {
    const key = `${bound}\u0000${JSON.stringify(params)}`;
    const cached = this.estimates.get(key);
    if (cached !== undefined) return cached;
    const estimate = await plannedRows(tx, `SELECT 1 FROM chunks c WHERE ${bound}`, params);
    this.estimates.set(key, estimate);
    return estimate;
  }
}

/** The planner's estimate of the rows a statement returns: its EXPLAIN, nothing executed. */
export async function plannedRows(
  on: SqlExecutor,
  sql: string,
  params: readonly unknown[] = [],
): Promise<number> {
  const { rows } = await on.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    params,
  );
  return rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows'];
}
