import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { CLOSE_DOCUMENT_SQL } from './chunk-lookups.js';
import { documentIdOf, type ChunkScope } from './chunk-rows.js';

/** A retirement: the document's current chunks of this configuration leave the current corpus at its event. */
export async function closeChunks(
  tx: SqlExecutor,
  [space, chunker]: ChunkScope,
  r: RecordedEvent,
): Promise<void> {
  await tx.query(CLOSE_DOCUMENT_SQL, [
    space,
    chunker,
    documentIdOf(r),
    r.position,
    r.recordedAt.toISOString(),
  ]);
}

/**
 * An erasure: every chunk of every configuration, the vectors only it used, and the cached results of its
 * coach (whose query-cache lock the caller holds; the coach from `coachesOf`, which another configuration's
 * projector deleting the chunks first does not change).
 */
export async function eraseChunks(tx: SqlExecutor, documentId: string, coachId: string): Promise<void> {
  await tx.query(
    `WITH gone AS (DELETE FROM chunks WHERE document_id = $1 RETURNING space, embedded_sha256)
     DELETE FROM embedding_cache c USING gone g
     WHERE c.space = g.space AND c.text_sha256 = g.embedded_sha256
       AND NOT EXISTS (SELECT 1 FROM chunks o WHERE o.space = g.space AND o.embedded_sha256 = g.embedded_sha256
                       AND o.document_id <> $1)`,
    [documentId],
  );
  await tx.query('DELETE FROM rag_query_cache WHERE coach_id = $1', [coachId]);
}

/** Deleted rows linger in the heap until vacuumed: an erasure is not done until they are gone. */
export async function vacuumErased(sql: SqlExecutor): Promise<void> {
  for (const table of ['chunks', 'chunk_lexemes', 'embedding_cache', 'rag_query_cache'])
    await sql.exec(`VACUUM ${table}`);
}
