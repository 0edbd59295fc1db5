import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { VectorArray } from '../../infrastructure/sql/vector-array.js';
import { timeSlice } from '../../infrastructure/time-slice.js';
import type { PreparedVersion } from './chunk-preparation.js';
import { textSha256 } from './embedding-cache.js';
import { coachesOfDocuments } from '../documents/document-directory.js';
import { closeEarlierVersions, withNewerVersion } from './chunk-lookups.js';

/** One configuration's rows: [space, chunker]. */
export type ChunkScope = [space: string, chunker: string];

/** A new document version to write: its event and its prepared chunks. */
export interface VersionWrite {
  recorded: RecordedEvent;
  p: PreparedVersion;
}

type ChunkRow = Record<string, unknown> & { embedded_sha256: string; vector: Float32Array };

/** Rows per INSERT of chunks. */
const WRITE_ROWS = 4_000;

export function documentIdOf(r: RecordedEvent): string {
  return (r.data as { documentId: string }).documentId;
}

/**
 * New versions, at most one per document: the chunks of each document's earlier versions leave the current
 * corpus (their validity ends at the new version's event), then the new chunks are inserted, many per statement.
 * `saved`: hashes whose vectors the embedding cache held (no chunk did): chunks hold them now, the cache lets go.
 */
export async function writeVersions(
  tx: SqlExecutor,
  scope: ChunkScope,
  run: VersionWrite[],
  saved: ReadonlySet<string>,
): Promise<void> {
  const closing = run.map(({ recorded: r }) => ({
    document_id: documentIdOf(r),
    version: r.streamPosition,
    position: r.position,
    at: r.recordedAt.toISOString(),
  }));
  await closeEarlierVersions(tx, scope, closing);
  const coaches = await coachesOf(
    tx,
    run.map((w) => w.recorded),
  );
  const superseded = await withNewerVersion(tx, scope, closing);
  const rows = run.flatMap((w) => chunkRows(w, coaches, superseded));
  // At most WRITE_ROWS rows per statement, each made when its statement is: the BM25 triggers still add up each
  // word once per few thousand chunks, and the rows are made in time slices (a whole batch's JSON made in one
  // go would hold the event loop for seconds).
  const slice = timeSlice();
  for (let i = 0; i < rows.length; i += WRITE_ROWS) {
    const statement = [];
    for (const row of rows.slice(i, i + WRITE_ROWS)) {
      statement.push(row());
      await slice();
    }
    await insertChunks(tx, scope, statement, saved);
  }
}

/** The rows of one version's chunks, each made only when called (see writeVersions). */
function chunkRows(
  { recorded: r, p }: VersionWrite,
  coaches: Map<string, string>,
  superseded: ReadonlySet<string>,
): Array<() => ChunkRow> {
  const m = p.snapshot.metadata;
  const documentRow = {
    document_id: documentIdOf(r),
    coach_id: coaches.get(documentIdOf(r)),
    version: r.streamPosition,
    title: p.snapshot.title,
    access_tier: m.accessTier,
    document_type: m.documentType,
    tags: m.tags ?? [],
    publication_date: m.publicationDate ?? null,
    metadata: m,
    valid_from: r.position,
    valid_from_at: r.recordedAt.toISOString(),
    is_current: !superseded.has(documentIdOf(r)),
  };
  return p.chunks.map((c, i) => () => ({
    vector: p.vectors[i]!,
    ...documentRow,
    chunk_index: c.index,
    content: c.content,
    start_char: c.startChar,
    end_char: c.endChar,
    section: c.section ?? null,
    page: c.page ?? null,
    embedded_sha256: textSha256(p.texts[i]!),
  }));
}

async function insertChunks(
  tx: SqlExecutor,
  [space, chunker]: ChunkScope,
  rows: ChunkRow[],
  saved: ReadonlySet<string>,
): Promise<void> {
  // Vectors the cache held because no chunk did: these rows hold them now (by primary key, with the insert).
  const held = [...new Set(rows.map((r) => r.embedded_sha256).filter((h) => saved.has(h)))];
  // The vectors go as one vector[] parameter (binary on PostgreSQL), zipped with the JSON rows by ROWS FROM.
  const vectors = new VectorArray(rows.map((r) => r.vector));
  const json = JSON.stringify(rows.map(({ vector: _, ...row }) => row));
  await tx.query(
    `WITH inserted AS (INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
       end_char, section, page, access_tier, document_type, tags, publication_date, metadata, embedded_sha256,
       valid_from, valid_from_at, is_current, embedding)
     SELECT $1, $2, r.document_id, r.coach_id, r.version, r.chunk_index, r.title, r.content, r.start_char,
       r.end_char, r.section, r.page, r.access_tier, r.document_type, ARRAY(SELECT jsonb_array_elements_text(r.tags)),
       r.publication_date, r.metadata, r.embedded_sha256, r.valid_from, r.valid_from_at,
       r.is_current, r.embedding
     FROM ROWS FROM (
       jsonb_to_recordset($3::jsonb) AS (document_id uuid, coach_id text, version int, chunk_index int,
         title text, content text, start_char int, end_char int, section text, page int, access_tier text,
         document_type text, tags jsonb, publication_date text, metadata jsonb, embedded_sha256 text,
         valid_from text, valid_from_at timestamptz, is_current boolean),
       unnest($5::vector[])
     ) AS r(document_id, coach_id, version, chunk_index, title, content, start_char, end_char, section, page,
       access_tier, document_type, tags, publication_date, metadata, embedded_sha256, valid_from, valid_from_at,
       is_current, embedding)
     ON CONFLICT DO NOTHING RETURNING 1)
     DELETE FROM embedding_cache WHERE space = $1 AND text_sha256 = ANY ($4::text[])`,
    [space, chunker, json, held, vectors],
  );
}

/** The coach of each document: in the upload event's clear data, else in the inline `documents` read model. */
export async function coachesOf(tx: SqlExecutor, events: RecordedEvent[]): Promise<Map<string, string>> {
  const coaches = new Map<string, string>();
  for (const r of events) {
    const inEvent = (r.data as { coachId?: string }).coachId;
    if (inEvent) coaches.set(documentIdOf(r), inEvent);
  }
  const unknown = [...new Set(events.map(documentIdOf).filter((id) => !coaches.has(id)))];
  if (unknown.length > 0) {
    for (const [id, coach] of await coachesOfDocuments(tx, unknown)) coaches.set(id, coach);
  }
  for (const id of unknown) if (!coaches.has(id)) throw new Error(`document ${id} has no row in documents`);
  return coaches;
}
