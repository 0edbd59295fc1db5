import { eraseChunks } from '../chunks/chunk-removal.js';
import { lockQueryCaches } from '../chunks/query-cache.js';
import { deleteCounted, NONE, plus, type MaintenanceContext, type Removed } from './maintenance-context.js';
import { formatBytes, type TaskOutcome } from './maintenance-report.js';

/** How many of the documents found without events the report names. */
const NAMED_MAX = 100;

/**
 * What an erasure removes, where it was left behind (before the consistency check, which would otherwise read an
 * erased document's events with a key that should be gone):
 * - documents whose stream holds a DocumentErased event: their key and URL source (the erasure deletes both in
 *   its own transaction), their chunks of every configuration with the vectors only they used and their coach's
 *   cached results (as the chunks projection's erasure does; only once every chunks projector is past the
 *   erasure, so that a projector still behind is not mistaken for a leftover), and any cached search result that
 *   names them. Their `documents` and `document_versions` rows are the consistency check's (it replays the erasure);
 * - documents with no events at all: every row of theirs, in the same tables and in `documents` and
 *   `document_versions` (nothing can rebuild them, nothing refers to them).
 * Stored files no document refers to are the orphan-files task's (after the consistency check).
 */
export async function removeOrphans(ctx: MaintenanceContext): Promise<TaskOutcome> {
  const erased = await leftoversOfErased(ctx);
  const withoutEvents = await rowsWithoutEvents(ctx);
  const total = plus(sum(erased), sum(withoutEvents.removed));
  return {
    status: 'succeeded',
    summary:
      `${total.rows} row(s) removed (${formatBytes(total.bytes)}): ${sum(erased).rows} left by erasures, ` +
      `${sum(withoutEvents.removed).rows} of ${withoutEvents.documents.length} document(s) without events`,
    ...total,
    details: {
      erasedDocuments: erased,
      withoutEvents: { ...withoutEvents.removed, documents: withoutEvents.documents.slice(0, NAMED_MAX) },
    },
  };
}

const sum = (parts: Record<string, Removed>) => Object.values(parts).reduce(plus, NONE);

async function leftoversOfErased(ctx: MaintenanceContext): Promise<Record<string, Removed>> {
  const { rows } = await ctx.sql.query<{ id: string; projected: boolean }>(
    `SELECT DISTINCT e.data->>'documentId' AS id,
       NOT EXISTS (SELECT 1 FROM projection_checkpoints c WHERE c.name = 'chunks' AND c.status <> 'retired'
                   AND (e.transaction_id, e.global_position) > (c.position_tx, c.position_seq)) AS projected
     FROM events e WHERE e.type = 'DocumentErased'`,
  );
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return {};
  return {
    documentKeys: await deleteCounted(ctx.sql, 'document_keys', 't.document_id = ANY ($1::uuid[])', [ids]),
    urlSources: await deleteCounted(ctx.sql, 'url_sources', 't.document_id = ANY ($1::uuid[])', [ids]),
    chunks: await removeChunks(
      ctx,
      rows.filter((r) => r.projected).map((r) => r.id),
    ),
    cachedResults: await removeCachedResults(ctx, ids),
  };
}

async function rowsWithoutEvents(ctx: MaintenanceContext) {
  const { rows } = await ctx.sql.query<{ id: string }>(
    `SELECT d.id::text AS id FROM (
       SELECT document_id AS id FROM documents UNION SELECT document_id FROM document_versions
       UNION SELECT document_id FROM document_keys UNION SELECT document_id FROM url_sources
       UNION SELECT document_id FROM chunks) d
     WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = 'document-' || d.id::text)`,
  );
  const documents = rows.map((r) => r.id);
  if (documents.length === 0) return { documents, removed: {} };
  const of = (table: string) =>
    deleteCounted(ctx.sql, table, 't.document_id = ANY ($1::uuid[])', [documents]);
  const removed: Record<string, Removed> = {
    documents: await of('documents'),
    documentVersions: await of('document_versions'),
    documentKeys: await of('document_keys'),
    urlSources: await of('url_sources'),
    chunks: await removeChunks(ctx, documents),
    cachedResults: await removeCachedResults(ctx, documents),
  };
  return { documents, removed };
}

/** Through the chunks projection's own erasure, one document at a time under its coach's query-cache lock. */
async function removeChunks(ctx: MaintenanceContext, documentIds: readonly string[]): Promise<Removed> {
  if (documentIds.length === 0) return NONE;
  const { rows } = await ctx.sql.query<{ id: string; coach: string; n: number; bytes: string }>(
    `SELECT document_id::text AS id, min(coach_id) AS coach, count(*)::int AS n, sum(pg_column_size(c))::text AS bytes
     FROM chunks c WHERE document_id = ANY ($1::uuid[]) GROUP BY document_id`,
    [[...documentIds]],
  );
  let removed = NONE;
  for (const row of rows) {
    await ctx.sql.transaction(async (tx) => {
      await lockQueryCaches(tx, [row.coach]);
      await eraseChunks(tx, row.id, row.coach);
    });
    removed = plus(removed, { rows: row.n, bytes: Number(row.bytes) });
  }
  return removed;
}

/** Cached search results that name one of these documents (a result is `{ documentId, … }`). */
function removeCachedResults(ctx: MaintenanceContext, documentIds: readonly string[]): Promise<Removed> {
  return deleteCounted(
    ctx.sql,
    'rag_query_cache',
    `EXISTS (SELECT 1 FROM jsonb_array_elements(t.results) r WHERE r->>'documentId' = ANY ($1::text[]))`,
    [[...documentIds]],
  );
}
