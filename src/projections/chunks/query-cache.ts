import { checkpoints } from '../../infrastructure/projections/checkpoints.js';
import type { SqlClient, SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { AsyncProjection } from '../../infrastructure/projections/projection.js';
import type { SearchResult } from './search.js';

/**
 * `rag_query_cache`: search results by the normalised request and the position of the read model that answered.
 *
 * An erasure must leave no copy of the erased text here (API.md), so two rules hold:
 * - The erasure deletes its coach's cached results holding this coach's lock exclusively, until its batch commits;
 *   storing results takes the same lock shared, or stores nothing if it cannot have it at once. Either the
 *   erasure's delete sees the stored row, or the results are not stored.
 * - Results are stored only while the read model is still at the position they were computed at: results read
 *   before an erasure are not written after it.
 * Expired rows are deleted whenever results are stored (up to 1,000 at a time), through the index on `expires_at`.
 */

/** The first key of the two-key advisory locks of the query cache (the second is the coach's hash). */
const QUERY_CACHE_LOCK = 0x71636368; // "qcch"

/**
 * Holds the query-cache locks of these coaches exclusively until the end of the transaction, taken in one order
 * (sorted) so that two projectors (a configuration and its companion) erasing in different batches cannot
 * deadlock on them.
 */
export async function lockQueryCaches(tx: SqlExecutor, coachIds: readonly string[]): Promise<void> {
  for (const coachId of [...new Set(coachIds)].sort())
    await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [QUERY_CACHE_LOCK, coachId]);
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
  projection: AsyncProjection,
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
    // Storing is optional: while an erasure holds the coach's lock (until its projector batch commits), the
    // results are not stored rather than the search waiting for the batch.
    const { rows } = await tx.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_xact_lock_shared($1::int, hashtext($2)) AS locked',
      [QUERY_CACHE_LOCK, entry.coachId],
    );
    if (!rows[0]!.locked) return false;
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
