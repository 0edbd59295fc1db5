import { checkpoints } from '../../infrastructure/projections/checkpoints.js';
import type { SqlClient, SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { Projection } from '../projection.js';
import type { SearchResult } from './search.js';

/**
 * `rag_query_cache`: search results by the normalised request and the position of the read model that answered.
 *
 * An erasure must leave no copy of the erased text here (API.md), so two rules hold:
 * - The erasure deletes its coach's cached results holding this coach's lock exclusively, until its batch commits;
 *   storing results takes the same lock shared. Either the erasure's delete sees the stored row, or the store waits
 *   for the erasure to commit and then finds the read model moved on.
 * - Results are stored only while the read model is still at the position they were computed at: results read
 *   before an erasure are not written after it.
 * Expired rows are deleted whenever results are stored (up to 1,000 at a time), through the index on `expires_at`.
 */

/** The first key of the two-key advisory locks of the query cache (the second is the coach's hash). */
const QUERY_CACHE_LOCK = 0x71636368; // "qcch"

/** Holds the coach's query-cache lock until the end of the transaction. */
export async function lockQueryCache(
  tx: SqlExecutor,
  coachId: string,
  mode: 'shared' | 'exclusive',
): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`SELECT ${fn}($1::int, hashtext($2))`, [QUERY_CACHE_LOCK, coachId]);
}

export async function cachedResults(sql: SqlClient, key: string): Promise<SearchResult[] | undefined> {
  const { rows } = await sql.query<{ results: SearchResult[] }>(
    'SELECT results FROM rag_query_cache WHERE cache_key = $1 AND expires_at > now()',
    [key],
  );
  return rows[0]?.results;
}

/**
 * Stores results computed at `position` of `projection`, unless the read model has moved since; returns whether
 * it stored them.
 */
export async function storeResults(
  sql: SqlClient,
  projection: Projection,
  entry: {
    key: string;
    coachId: string;
    position: string | null;
    results: SearchResult[];
    ttlSeconds: number;
  },
): Promise<boolean> {
  // Expired rows go first, in a statement of their own that passes over rows another transaction holds (an
  // erasure's delete): waiting for them inside the transaction below could deadlock with it.
  await sql.query(
    `DELETE FROM rag_query_cache WHERE cache_key IN (
       SELECT cache_key FROM rag_query_cache WHERE expires_at <= now() LIMIT 1000 FOR UPDATE SKIP LOCKED)`,
  );
  return sql.transaction(async (tx) => {
    await lockQueryCache(tx, entry.coachId, 'shared');
    const now = (await checkpoints.read(tx, projection))?.position ?? null;
    if (now !== entry.position) return false;
    await tx.query(
      `INSERT INTO rag_query_cache (cache_key, coach_id, position, results, expires_at)
       VALUES ($1, $2, $3, $4::jsonb, now() + make_interval(secs => $5))
       ON CONFLICT (cache_key) DO UPDATE SET results = EXCLUDED.results, expires_at = EXCLUDED.expires_at`,
      [entry.key, entry.coachId, entry.position, JSON.stringify(entry.results), entry.ttlSeconds],
    );
    return true;
  });
}
