import { deleteCounted, type MaintenanceContext } from './maintenance-context.js';
import { formatBytes, type TaskOutcome } from './maintenance-report.js';

/**
 * Expired cached search results (`rag_query_cache`, each row expiring QUERY_CACHE_TTL_SECONDS after it was
 * stored). Searches already skip them and delete up to a thousand at a time while storing, but a cache that
 * nobody writes to any more keeps them. Rows that an erasure's transaction holds are passed over (SKIP LOCKED),
 * as the search's own clean-up does: the erasure deletes them anyway.
 *
 * The only other cache with an expiry is the planner's row estimates, in memory (an LRU with its own TTL). The
 * embedding cache does not expire: it keeps vectors no chunk holds, so that a configuration brought back embeds
 * nothing again; idempotency keys are kept for good by design.
 */
export async function removeExpiredQueryCache(ctx: MaintenanceContext): Promise<TaskOutcome> {
  const removed = await deleteCounted(
    ctx.sql,
    'rag_query_cache',
    `t.cache_key IN (SELECT cache_key FROM rag_query_cache WHERE expires_at <= now() FOR UPDATE SKIP LOCKED)`,
    [],
  );
  return {
    status: 'succeeded',
    summary: `${removed.rows} expired cached search result(s) removed (${formatBytes(removed.bytes)})`,
    ...removed,
    details: { expiredRows: removed.rows, ttlSeconds: ctx.config.QUERY_CACHE_TTL_SECONDS },
  };
}
