import { createHash } from 'node:crypto';
import type { Snapshot } from '../../domain/document/document.js';
import { DOCUMENT_EVENT_TYPES } from '../../infrastructure/documents/document-events.js';
import { EmbeddingError, type Embedder } from '../../infrastructure/embeddings/embedder.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { timeSlice } from '../../infrastructure/time-slice.js';
import { openDocumentEvents } from '../documents/open-document-events.js';
import type { AsyncProjection } from '../../infrastructure/projections/projection.js';
import { coachesOfDocuments } from '../documents/document-directory.js';
import { chunkerVersion, chunkText, type Chunk, type ChunkerConfig } from './chunker.js';
import { VectorArray } from '../../infrastructure/sql/vector-array.js';
import { EmbeddingCache, textSha256, type Fresh } from './embedding-cache.js';
import { lockQueryCaches } from './query-cache.js';
import { staleVectorIndexes, vectorIndexes, type VectorIndexConfig } from './vector-index.js';

export interface ChunksConfig {
  embedder: Embedder;
  chunker: ChunkerConfig;
  index: VectorIndexConfig;
  /** maintenance_work_mem for building the vector index (an HNSW graph that fits builds in memory). */
  indexBuildMemoryMb?: number;
  /** How to make this embedder again (recorded with the checkpoint, for blue/green switches). */
  embedderOptions?: Record<string, unknown>;
  /** Kept only to serve searches until a new configuration is live (see AsyncProjection.companion). */
  companion?: boolean;
}

/** What a chunks version records with its checkpoint: enough to search it, and to keep projecting it. */
export interface ChunksVersionConfig {
  space: string;
  chunker: string;
  dimensions: number;
  chunkerConfig: ChunkerConfig;
  embedder?: Record<string, unknown>;
}

/** A batch with at least this many new chunks, and more than BULK_SHARE of the current ones, is a bulk load. */
export const BULK_MIN_CHUNKS = 256;
export const BULK_SHARE = 0.25;

/** What `prepare` found for one event: its chunks and their vectors, or why it goes to the dead letters. */
type Prepared =
  | { kind: 'version'; snapshot: Snapshot; chunks: Chunk[]; texts: string[]; vectors: Float32Array[] }
  | { kind: 'dead'; code: string; error: string };

interface VersionWrite {
  recorded: RecordedEvent;
  p: Extract<Prepared, { kind: 'version' }>;
}

interface Batch {
  byEvent: Map<string, Prepared>;
  fresh: Fresh[];
}

const VERSION_EVENTS = new Set([
  'DocumentUploaded',
  'DocumentEdited',
  'DocumentFileReplaced',
  'DocumentRolledBack',
]);

/** The text that is embedded for a chunk: the document's title and the chunk's section give it context. */
export function embeddingText(title: string, chunk: Pick<Chunk, 'content' | 'section'>): string {
  return [title, chunk.section, chunk.content].filter(Boolean).join('\n\n');
}

/** One number per configuration, so that a new embedding space or chunker builds beside the live one. */
export function chunksVersion(space: string, chunker: string): number {
  return parseInt(createHash('sha256').update(`${space}|${chunker}`).digest('hex').slice(0, 7), 16);
}

/**
 * The async `chunks` read model: every document version is chunked and embedded (outside the transaction, in
 * `prepare`), then its chunks are written with their vectors and the checkpoint. A new version closes the
 * validity of the previous one's chunks, a retirement closes them too, an erasure deletes them with their
 * cached vectors and cached search results. Applying an event twice changes nothing.
 */
export type ChunksProjection = AsyncProjection & {
  space: string;
  chunker: string;
  config: Record<string, unknown>;
};

export function chunksProjection(config: ChunksConfig): ChunksProjection {
  const cache = new EmbeddingCache(config.embedder);
  const space = config.embedder.space;
  const chunker = chunkerVersion(config.chunker);
  const scope = [space, chunker];
  const indexes = vectorIndexes(config.index, space, chunker, config.embedder.dimensions);
  /** Whether this configuration's vector indexes are known to be missing (undefined: not checked yet). */
  let indexMissing: boolean | undefined;
  const recorded: ChunksVersionConfig = {
    space,
    chunker,
    dimensions: config.embedder.dimensions,
    chunkerConfig: { ...config.chunker },
    ...(config.embedderOptions ? { embedder: config.embedderOptions } : {}),
  };
  return {
    name: 'chunks',
    version: chunksVersion(space, chunker),
    space,
    chunker,
    config: recorded as unknown as Record<string, unknown>,
    companion: config.companion ?? false,
    handles: DOCUMENT_EVENT_TYPES,

    async setup(sql) {
      // Indexes of this configuration built with other parameters (or of the other kind) are dropped first.
      const current = indexes.map((i) => i.name);
      for (const name of await staleVectorIndexes(sql, space, chunker, current))
        await sql.exec(`DROP INDEX IF EXISTS ${name}`);
      await buildIndex(sql);
    },

    async prepare(sql, events): Promise<Batch> {
      const byEvent = new Map<string, Prepared>();
      const slice = timeSlice(); // chunking a batch takes seconds: keep the process's HTTP requests going
      for (const { recorded, event } of await openDocumentEvents(sql, events)) {
        await slice();
        if (!VERSION_EVENTS.has(event.type)) continue;
        const snapshot = (event.data as { snapshot: Snapshot }).snapshot;
        const chunks = chunkText(snapshot, config.chunker);
        const texts = chunks.map((c) => embeddingText(snapshot.title, c));
        byEvent.set(recorded.eventId, { kind: 'version', snapshot, chunks, texts, vectors: [] });
      }
      const fresh: Fresh[] = [];
      const versions = [...byEvent.entries()].filter(([, p]) => p.kind === 'version');
      try {
        await embedAll(sql, versions, fresh);
      } catch (error) {
        if (!isDeterministic(error)) throw error;
        // One input was refused: embed event by event to find which, and set only those aside.
        fresh.length = 0;
        for (const entry of versions) {
          try {
            await embedAll(sql, [entry], fresh);
          } catch (e) {
            if (!isDeterministic(e)) throw e;
            byEvent.set(entry[0], { kind: 'dead', code: 'EMBEDDING_REFUSED', error: (e as Error).message });
          }
        }
      }
      await dropIndexForBulkLoad(sql, byEvent);
      return { byEvent, fresh };
    },

    async apply(tx, events, prepared) {
      const batch = prepared as Batch;
      const fresh = new Set(batch.fresh.map((f) => f.sha256));
      // New versions are written together, one statement for the whole run (the BM25 triggers then add up each
      // word once per run, not once per document); a run ends before an event that touches one of its documents.
      let run: VersionWrite[] = [];
      const flush = async () => {
        if (run.length > 0) await writeVersions(tx, scope, run, fresh);
        run = [];
      };
      // The query-cache locks of every coach this batch erases from, before anything else is written (query-cache.ts).
      const erasures = events.filter((e) => e.type === 'DocumentErased');
      const erasedFrom = erasures.length > 0 ? await coachesOf(tx, erasures) : new Map<string, string>();
      await lockQueryCaches(tx, [...erasedFrom.values()]);
      for (const recorded of events) {
        const p = batch.byEvent.get(recorded.eventId);
        const documentId = documentIdOf(recorded);
        if (run.some((w) => documentIdOf(w.recorded) === documentId)) await flush();
        if (p?.kind === 'dead') await deadLetter(tx, this, recorded, p);
        else if (p) run.push({ recorded, p });
        else if (recorded.type === 'DocumentRetired') await close(tx, scope, recorded);
        else if (recorded.type === 'DocumentErased') await erase(tx, documentId, erasedFrom.get(documentId)!);
      }
      await flush();
    },

    async idle(sql) {
      // Caught up: vector indexes dropped for a bulk load (or by a rebuild) are built again, once, on all rows.
      // Then the table is analyzed: autovacuum does it only once a tenth of the table has changed, and until then
      // the planner would estimate a newly loaded coach's chunks from statistics that have never seen them (a
      // vector search decides between an exact scan and the index from that estimate, search.ts).
      if (indexMissing !== false) {
        await buildIndex(sql);
        await sql.exec('ANALYZE chunks');
      }
    },

    async afterCommit(sql, events) {
      // Deleted rows linger in the heap until vacuumed: an erasure is not done until they are gone.
      if (events.some((e) => e.type === 'DocumentErased')) {
        for (const table of ['chunks', 'chunk_lexemes', 'embedding_cache', 'rag_query_cache'])
          await sql.exec(`VACUUM ${table}`);
      }
    },

    async dropVersion(sql, old) {
      // The version that served until now: its chunks, its statistics (the delete trigger) and its vector index.
      const o = old as Partial<ChunksVersionConfig> | null;
      if (!o?.space || !o.chunker || (o.space === space && o.chunker === chunker)) return;
      await sql.query('DELETE FROM chunks WHERE space = $1 AND chunker = $2', [o.space, o.chunker]);
      for (const name of await staleVectorIndexes(sql, o.space, o.chunker))
        await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    },

    async truncate(tx) {
      await tx.query('DELETE FROM chunks WHERE space = $1 AND chunker = $2', scope);
      // A rebuild loads every chunk again: the indexes are built once when it has caught up, not row by row.
      for (const { name } of indexes) await tx.exec(`DROP INDEX IF EXISTS ${name}`);
      indexMissing = true;
      await tx.query('DELETE FROM projection_dead_letters WHERE projection = $1 AND version = $2', [
        this.name,
        this.version,
      ]);
    },
  };

  async function embedAll(sql: SqlExecutor, entries: Array<[string, Prepared]>, fresh: Fresh[]) {
    const texts = entries.flatMap(([, p]) => (p.kind === 'version' ? p.texts : []));
    const result = await cache.embed(sql, texts);
    let i = 0;
    for (const [, p] of entries) {
      if (p.kind !== 'version') continue;
      p.vectors = result.vectors.slice(i, i + p.texts.length);
      i += p.texts.length;
    }
    fresh.push(...result.fresh);
  }

  async function buildIndex(sql: SqlExecutor): Promise<void> {
    // pgvector builds an HNSW graph in memory when it fits in maintenance_work_mem (much faster than on disk).
    await sql.exec(`SET maintenance_work_mem = '${config.indexBuildMemoryMb ?? 1024}MB'`);
    for (const { ddl } of indexes) await sql.exec(ddl);
    await sql.exec('RESET maintenance_work_mem');
    indexMissing = false;
  }

  /**
   * Inserting into an HNSW index costs several times more per row than building it (measured: 4 ms against
   * 0.8 ms per 512-dimension row), so a batch that brings at least BULK_MIN_CHUNKS and more than BULK_SHARE of
   * the configuration's current chunks is loaded without it; `idle` builds it again once caught up. Meanwhile a
   * vector search is an exact scan: slower, never wrong.
   */
  async function dropIndexForBulkLoad(sql: SqlExecutor, byEvent: Map<string, Prepared>): Promise<void> {
    if (indexMissing) return;
    const incoming = [...byEvent.values()].reduce(
      (n, p) => n + (p.kind === 'version' ? p.chunks.length : 0),
      0,
    );
    if (incoming < BULK_MIN_CHUNKS) return;
    const { rows } = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM chunks WHERE space = $1 AND chunker = $2 AND is_current',
      scope,
    );
    if (incoming <= rows[0]!.n * BULK_SHARE) return;
    for (const { name } of indexes) await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    indexMissing = true;
  }
}

function isDeterministic(error: unknown): boolean {
  return error instanceof EmbeddingError && !error.retryable;
}

function documentIdOf(r: RecordedEvent): string {
  return (r.data as { documentId: string }).documentId;
}

/**
 * New versions, at most one per document: the chunks of each document's earlier versions leave the current corpus
 * (their validity ends at the new version's event), then every new chunk is inserted in one statement.
 */
async function writeVersions(
  tx: SqlExecutor,
  scope: string[],
  run: VersionWrite[],
  fresh: ReadonlySet<string>,
): Promise<void> {
  const [space, chunker] = scope as [string, string];
  const closing = run.map(({ recorded: r }) => ({
    document_id: documentIdOf(r),
    version: r.streamPosition,
    position: r.position,
    at: r.recordedAt.toISOString(),
  }));
  await tx.query(
    `UPDATE chunks c SET is_current = false, valid_to = v.position, valid_to_at = v.at
     FROM jsonb_to_recordset($3::jsonb) AS v(document_id uuid, version int, position text, at timestamptz)
     WHERE c.space = $1 AND c.chunker = $2 AND c.document_id = v.document_id AND c.is_current
       AND c.version < v.version`,
    [space, chunker, JSON.stringify(closing)],
  );
  const coaches = await coachesOf(
    tx,
    run.map((w) => w.recorded),
  );
  const superseded = await withNewerVersion(tx, scope, closing);
  const rows = run.flatMap(({ recorded: r, p }) => {
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
  });
  // At most WRITE_ROWS rows per statement, each made when its statement is: the BM25 triggers still add up each
  // word once per few thousand chunks, and the rows are made in time slices (a whole 500-event batch was ~120 MB
  // of JSON, made in one go: seconds without the event loop).
  const slice = timeSlice();
  for (let i = 0; i < rows.length; i += WRITE_ROWS) {
    const statement = [];
    for (const row of rows.slice(i, i + WRITE_ROWS)) {
      statement.push(row());
      await slice();
    }
    await insertChunks(tx, scope, statement, fresh);
  }
}

/** Rows per INSERT of chunks. */
const WRITE_ROWS = 4_000;

async function insertChunks(
  tx: SqlExecutor,
  [space, chunker]: string[],
  rows: Array<Record<string, unknown> & { embedded_sha256: string; vector: Float32Array }>,
  fresh: ReadonlySet<string>,
): Promise<void> {
  // Newly embedded vectors go into the embedding cache from the inserted rows, so that they are sent and parsed
  // once. (A chunk already there from an earlier delivery was embedded then, and its vector cached then.)
  const freshHashes = [...new Set(rows.map((r) => r.embedded_sha256).filter((h) => fresh.has(h)))];
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
     ON CONFLICT DO NOTHING RETURNING space, embedded_sha256, embedding)
     INSERT INTO embedding_cache (space, text_sha256, embedding)
     SELECT DISTINCT ON (embedded_sha256) space, embedded_sha256, embedding FROM inserted
     WHERE embedded_sha256 IN (SELECT jsonb_array_elements_text($4::jsonb))
     ON CONFLICT DO NOTHING`,
    [space, chunker, json, JSON.stringify(freshHashes), vectors],
  );
}

/**
 * Documents that already have chunks of a later version than the one being written (an event delivered again):
 * the chunks written for it are not current. Asked once per document, not per chunk: a correlated check per
 * chunk is planned badly while the table grows fast (seen: 3 ms per row at 5,000 rows, on a wrong index).
 */
async function withNewerVersion(
  tx: SqlExecutor,
  [space, chunker]: string[],
  versions: Array<{ document_id: string; version: number }>,
): Promise<Set<string>> {
  const { rows } = await tx.query<{ document_id: string }>(
    `SELECT v.document_id::text FROM jsonb_to_recordset($3::jsonb) AS v(document_id uuid, version int)
     WHERE EXISTS (SELECT 1 FROM chunks n WHERE n.space = $1 AND n.chunker = $2 AND n.document_id = v.document_id
                   AND n.version > v.version)`,
    [space, chunker, JSON.stringify(versions)],
  );
  return new Set(rows.map((r) => r.document_id));
}

/** The coach of each document: in the upload event's clear data, else in the inline `documents` read model. */
async function coachesOf(tx: SqlExecutor, events: RecordedEvent[]): Promise<Map<string, string>> {
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

async function close(tx: SqlExecutor, [space, chunker]: string[], r: RecordedEvent): Promise<void> {
  await tx.query(
    `UPDATE chunks SET is_current = false, valid_to = $4, valid_to_at = $5
     WHERE space = $1 AND chunker = $2 AND document_id = $3 AND is_current`,
    [space, chunker, documentIdOf(r), r.position, r.recordedAt.toISOString()],
  );
}

/**
 * Every chunk of every configuration, the vectors only it used, and the cached results of its coach (whose
 * query-cache lock `apply` holds; the coach from `coachesOf`, which another configuration's projector deleting
 * the chunks first does not change).
 */
async function erase(tx: SqlExecutor, documentId: string, coachId: string): Promise<void> {
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

async function deadLetter(
  tx: SqlExecutor,
  p: AsyncProjection,
  r: RecordedEvent,
  d: Extract<Prepared, { kind: 'dead' }>,
): Promise<void> {
  await tx.query(
    `INSERT INTO projection_dead_letters (projection, version, position, event_id, event_type, stream_id, error_code, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [p.name, p.version, r.position, r.eventId, r.type, r.streamId, d.code, d.error.slice(0, 2000)],
  );
}
