import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import { prepareChunks } from '../chunks/chunk-preparation.js';
import type { ChunksProjection, ChunksVersionConfig } from '../chunks/chunks.projection.js';
import { EmbeddingCache } from '../chunks/embedding-cache.js';
import { lockQueryCaches } from '../chunks/query-cache.js';
import { documentVersionsProjection } from '../document-versions/document-versions.projection.js';
import { documentsProjection } from '../documents/documents.projection.js';
import { readChunkState } from './chunk-check.js';
import { holdStreams, readStreamsVia, streamOf } from './document-streams.js';
import { deleteCounted, plus, type MaintenanceContext, type Removed } from './maintenance-context.js';

/** Rows a repair deleted (and wrote again from the events), or why it was put off to the next run. */
export type RepairOutcome = { repaired: Removed } | { deferred: string };

/**
 * A document's `documents` row and `document_versions` rows, deleted and made again from its events by the
 * inline projections' own code, while its stream is held (no append can come between the read and the write).
 * A document that is not erased but has no key is left alone: its events cannot be read, and a replay would
 * blank the only readable copy of its text.
 */
export async function repairInlineReadModels(
  ctx: MaintenanceContext,
  documentId: string,
): Promise<RepairOutcome> {
  const stream = streamOf(documentId);
  return ctx.sql.transaction(async (tx) => {
    await holdStreams(tx, [stream]);
    const events = (await readStreamsVia(tx, ctx.registry, [stream])).get(stream) ?? [];
    if (!(await readable(tx, documentId, events))) return { deferred: 'its key is missing' };
    const removed = plus(
      await deleteCounted(tx, 'documents', 't.document_id = $1', [documentId]),
      await deleteCounted(tx, 'document_versions', 't.document_id = $1', [documentId]),
    );
    await documentsProjection.apply(tx, events);
    await documentVersionsProjection.apply(tx, events);
    return { repaired: removed };
  });
}

/**
 * A document's chunks of this configuration, deleted and written again through the chunks projection itself:
 * its events are prepared (chunked, their vectors found by text hash, or embedded) outside the transaction, then
 * applied in it as the projector applies them. Done only while the projector is past every event of the
 * document and none can be appended (its stream is held): the projector does not touch the document meanwhile.
 * The coach's cached search results go (they may hold the text that differed), and its BM25 statistics are
 * counted again from its current chunks (a chunk changed in place bypassed the triggers that keep them).
 */
export async function repairChunks(ctx: MaintenanceContext, documentId: string): Promise<RepairOutcome> {
  const { projection, embedder } = ctx.chunks;
  const stream = streamOf(documentId);
  const events = (await readStreamsVia(ctx.sql, ctx.registry, [stream])).get(stream) ?? [];
  const chunker = (projection.config as unknown as ChunksVersionConfig).chunkerConfig;
  const prepared = await prepareChunks(ctx.sql, events, chunker, new EmbeddingCache(embedder));
  return ctx.sql.transaction(async (tx) => {
    const versions = await holdStreams(tx, [stream]);
    if (versions.get(stream) !== events.length) return { deferred: 'written to since it was checked' };
    const state = await readChunkState(tx, projection, [stream], [documentId]);
    if (!state.covered.has(stream)) return { deferred: 'the projector has not applied all its events yet' };
    const coachId = (events[0]?.data as { coachId?: string } | undefined)?.coachId;
    if (!coachId) return { deferred: 'its stream does not start with an upload' };
    await lockQueryCaches(tx, [coachId]);
    const removed = await deleteCounted(
      tx,
      'chunks',
      't.document_id = $1 AND t.space = $2 AND t.chunker = $3',
      [documentId, projection.space, projection.chunker],
    );
    await projection.apply(tx, events, prepared);
    await tx.query('DELETE FROM rag_query_cache WHERE coach_id = $1', [coachId]);
    await recountStatistics(tx, projection, coachId);
    return { repaired: removed };
  });
}

async function readable(
  tx: SqlExecutor,
  documentId: string,
  events: readonly RecordedEvent[],
): Promise<boolean> {
  if (events.some((e) => e.type === 'DocumentErased')) return true;
  return (await documentKeys.load(tx, [documentId])).has(documentId);
}

/**
 * The coach's BM25 statistics of this configuration from its current chunks, as the insert trigger counts them
 * (migration 0006): per lexeme the chunks that have it, per tier the chunks and their total length.
 */
async function recountStatistics(tx: SqlExecutor, p: ChunksProjection, coachId: string): Promise<void> {
  const scope = [p.space, p.chunker, coachId];
  const where = 'space = $1 AND chunker = $2 AND coach_id = $3';
  await tx.query(`DELETE FROM chunk_lexemes WHERE ${where}`, scope);
  await tx.query(
    `INSERT INTO chunk_lexemes (space, chunker, coach_id, access_tier, lexeme, df)
     SELECT space, chunker, coach_id, access_tier, lexeme, count(*) FROM chunks, unnest(tsvector_to_array(tsv)) AS lexeme
     WHERE is_current AND ${where} GROUP BY space, chunker, coach_id, access_tier, lexeme`,
    scope,
  );
  await tx.query(`DELETE FROM chunk_stats WHERE ${where}`, scope);
  await tx.query(
    `INSERT INTO chunk_stats (space, chunker, coach_id, access_tier, chunks, total_length)
     SELECT space, chunker, coach_id, access_tier, count(*), sum(length(tsv)) FROM chunks
     WHERE is_current AND ${where} GROUP BY space, chunker, coach_id, access_tier`,
    scope,
  );
}
