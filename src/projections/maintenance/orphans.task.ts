import { eraseChunks } from '../chunks/chunk-removal.js';
import { lockQueryCaches } from '../chunks/query-cache.js';
import { deleteCounted, NONE, plus, type MaintenanceContext, type Removed } from './maintenance-context.js';
import { formatBytes, type TaskOutcome } from './maintenance-report.js';

/** How many of the documents found without events the report names. */
const NAMED_MAX = 100;

/**
 * What an erasure removes, where it was left behind, and files no document refers to:
 * - documents whose stream holds a DocumentErased event: their key and URL source (the erasure deletes both in
 *   its own transaction), their chunks of every configuration with the vectors only they used and their coach's
 *   cached results (as the chunks projection's erasure does; only once every chunks projector is past the
 *   erasure, so that a projector still behind is not mistaken for a leftover), and any cached search result that
 *   names them. Their `documents` and `document_versions` rows are the consistency check's (it replays the erasure);
 * - documents with no events at all: every row of theirs, in the same tables and in `documents` and
 *   `document_versions` (nothing can rebuild them, nothing refers to them);
 * - stored files that no version of a document that is not erased refers to (see orphanFiles).
 */
export async function removeOrphans(ctx: MaintenanceContext): Promise<TaskOutcome> {
  const erased = await leftoversOfErased(ctx);
  const withoutEvents = await rowsWithoutEvents(ctx);
  const files = await orphanFiles(ctx);
  const total = [...Object.values(erased), ...Object.values(withoutEvents.removed), files.removed].reduce(plus);
  return {
    status: 'succeeded',
    summary:
      `${total.rows} row(s) removed (${formatBytes(total.bytes)}): ${files.removed.rows} file(s)` +
      `${files.skipped ? ` (files not judged: ${files.skipped})` : ''}, ` +
      `${sum(erased).rows} left by erasures, ${sum(withoutEvents.removed).rows} of ` +
      `${withoutEvents.documents.length} document(s) without events`,
    ...total,
    details: {
      erasedDocuments: erased,
      withoutEvents: { ...withoutEvents.removed, documents: withoutEvents.documents.slice(0, NAMED_MAX) },
      files: files.skipped ? { skipped: files.skipped } : files.removed,
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
  const of = (table: string) => deleteCounted(ctx.sql, table, 't.document_id = ANY ($1::uuid[])', [documents]);
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

/**
 * Files (by hash) that no version of a document that is not erased refers to, in its events (read by the
 * consistency check) nor in the read models, stored before the run began. Deleted under a lock that waits for
 * uploads storing a file to commit, and that they wait for: an upload of the same bytes cannot commit a
 * reference to a file deleted under it. Not judged when the consistency check did not read every document.
 */
async function orphanFiles(ctx: MaintenanceContext): Promise<{ removed: Removed; skipped?: string }> {
  const refs = ctx.fileRefs;
  if (!refs)
    return { removed: NONE, skipped: 'the consistency check did not read every document, so not all references are known' };
  const unreferenced = `NOT EXISTS (SELECT 1 FROM document_versions v WHERE v.file_sha256 = t.sha256)
    AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.file_sha256 = t.sha256)`;
  const { rows } = await ctx.sql.query<{ sha: string }>(
    `SELECT t.sha256 AS sha FROM files t WHERE t.created_at < $1 AND ${unreferenced}`,
    [ctx.startedAt],
  );
  const orphans = rows.map((r) => r.sha).filter((sha) => !refs.has(sha));
  if (orphans.length === 0) return { removed: NONE };
  const removed = await ctx.sql.transaction(async (tx) => {
    await tx.query('LOCK TABLE files IN SHARE ROW EXCLUSIVE MODE');
    return deleteCounted(tx, 'files', `t.sha256 = ANY ($1::text[]) AND ${unreferenced}`, [orphans], 't.size');
  });
  return { removed };
}
