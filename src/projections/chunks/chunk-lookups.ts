import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { ChunkScope } from './chunk-rows.js';

/**
 * The chunks projection's lookups of a document's chunks, each written so that it reads the document's own index
 * (chunks_document_key, migration 0014) whatever the planner knows. A table loaded in bulk is often not analyzed
 * yet, and then every equality is guessed at 1 row in 200: `space = … AND chunker = …` looked like one row, and
 * the planner scanned every chunk of the configuration through another index instead of probing by document.
 * Each document's chunks are therefore read in a subquery of its own (OFFSET 0 keeps the subquery from being
 * merged into a join), where the document's index is the only cheap way in. Exported for the plan tests.
 */

/** A new version closes the current chunks of the document's earlier versions (parameters: space, chunker, JSON). */
export const CLOSE_EARLIER_VERSIONS_SQL = `UPDATE chunks c SET is_current = false, valid_to = v.position, valid_to_at = v.at
  FROM jsonb_to_recordset($3::jsonb) AS v(document_id uuid, version int, position text, at timestamptz),
    LATERAL (SELECT n.id FROM chunks n WHERE n.document_id = v.document_id AND n.space = $1 AND n.chunker = $2
             AND n.is_current AND n.version < v.version OFFSET 0) x
  WHERE c.id = x.id`;

/** Documents that already have chunks of a later version (parameters: space, chunker, JSON of versions). */
export const NEWER_VERSIONS_SQL = `SELECT v.document_id::text FROM jsonb_to_recordset($3::jsonb) AS v(document_id uuid, version int)
  WHERE EXISTS (SELECT 1 FROM chunks n WHERE n.document_id = v.document_id AND n.space = $1 AND n.chunker = $2
                AND n.version > v.version OFFSET 0)`;

/** A retirement closes the document's current chunks (parameters: space, chunker, document, position, time). */
export const CLOSE_DOCUMENT_SQL = `UPDATE chunks SET is_current = false, valid_to = $4, valid_to_at = $5
  WHERE document_id = $3 AND space = $1 AND chunker = $2 AND is_current`;

export async function closeEarlierVersions(
  tx: SqlExecutor,
  [space, chunker]: ChunkScope,
  closing: Array<{ document_id: string; version: number; position: string; at: string }>,
): Promise<void> {
  // A first version has no earlier one: an upload skips the statement and its update trigger, which cost more
  // than the upload's own chunk insert when the projector keeps up (BENCHMARKS.md, "Ingest: where the time goes").
  const later = closing.filter((c) => c.version > 1);
  if (later.length === 0) return;
  await tx.query(CLOSE_EARLIER_VERSIONS_SQL, [space, chunker, JSON.stringify(later)]);
}

/**
 * Documents that already have chunks of a later version than the one being written (an event delivered again):
 * the chunks written for it are not current. Asked once per document, not per chunk.
 */
export async function withNewerVersion(
  tx: SqlExecutor,
  [space, chunker]: ChunkScope,
  versions: Array<{ document_id: string; version: number }>,
): Promise<Set<string>> {
  const { rows } = await tx.query<{ document_id: string }>(NEWER_VERSIONS_SQL, [
    space,
    chunker,
    JSON.stringify(versions),
  ]);
  return new Set(rows.map((r) => r.document_id));
}
