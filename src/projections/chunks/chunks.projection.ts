import { createHash } from 'node:crypto';
import type { Snapshot } from '../../domain/document/document.js';
import { DOCUMENT_EVENT_TYPES } from '../../infrastructure/documents/document-events.js';
import { EmbeddingError, type Embedder } from '../../infrastructure/embeddings/embedder.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { openDocumentEvents } from '../documents/open-document-events.js';
import type { Projection } from '../projection.js';
import { chunkerVersion, chunkText, type Chunk, type ChunkerConfig } from './chunker.js';
import { EmbeddingCache, textSha256, vectorSql, type Fresh } from './embedding-cache.js';
import { vectorIndexDdl, type VectorIndexConfig } from './vector-index.js';

export interface ChunksConfig {
  embedder: Embedder;
  chunker: ChunkerConfig;
  index: VectorIndexConfig;
}

/** What `prepare` found for one event: its chunks and their vectors, or why it goes to the dead letters. */
type Prepared =
  | { kind: 'version'; snapshot: Snapshot; chunks: Chunk[]; texts: string[]; vectors: Float32Array[] }
  | { kind: 'dead'; code: string; error: string };

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
export function chunksProjection(config: ChunksConfig): Projection & { space: string; chunker: string } {
  const cache = new EmbeddingCache(config.embedder);
  const space = config.embedder.space;
  const chunker = chunkerVersion(config.chunker);
  const scope = [space, chunker];
  return {
    name: 'chunks',
    version: chunksVersion(space, chunker),
    space,
    chunker,
    handles: DOCUMENT_EVENT_TYPES,

    async setup(sql) {
      await sql.exec(vectorIndexDdl(config.index, space, chunker, config.embedder.dimensions));
    },

    async prepare(sql, events): Promise<Batch> {
      const byEvent = new Map<string, Prepared>();
      for (const { recorded, event } of await openDocumentEvents(sql, events)) {
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
      return { byEvent, fresh };
    },

    async apply(tx, events, prepared) {
      const batch = prepared as Batch;
      await cache.remember(tx, batch.fresh);
      for (const recorded of events) {
        const p = batch.byEvent.get(recorded.eventId);
        if (p?.kind === 'dead') await deadLetter(tx, this, recorded, p);
        else if (p) await writeVersion(tx, scope, recorded, p);
        else if (recorded.type === 'DocumentRetired') await close(tx, scope, recorded);
        else if (recorded.type === 'DocumentErased') await erase(tx, documentIdOf(recorded));
      }
    },

    async afterCommit(sql, events) {
      // Deleted rows linger in the heap until vacuumed: an erasure is not done until they are gone.
      if (events.some((e) => e.type === 'DocumentErased')) {
        for (const table of ['chunks', 'chunk_lexemes', 'embedding_cache', 'rag_query_cache'])
          await sql.exec(`VACUUM ${table}`);
      }
    },

    async truncate(tx) {
      await tx.query('DELETE FROM chunks WHERE space = $1 AND chunker = $2', scope);
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
}

function isDeterministic(error: unknown): boolean {
  return error instanceof EmbeddingError && !error.retryable;
}

function documentIdOf(r: RecordedEvent): string {
  return (r.data as { documentId: string }).documentId;
}

async function writeVersion(
  tx: SqlExecutor,
  [space, chunker]: string[],
  r: RecordedEvent,
  p: Extract<Prepared, { kind: 'version' }>,
): Promise<void> {
  const documentId = documentIdOf(r);
  const version = r.streamPosition;
  await tx.query(
    `UPDATE chunks SET is_current = false, valid_to = $5, valid_to_at = $6
     WHERE space = $1 AND chunker = $2 AND document_id = $3 AND is_current AND version < $4`,
    [space, chunker, documentId, version, r.position, r.recordedAt.toISOString()],
  );
  if (p.chunks.length === 0) return;
  const s = p.snapshot;
  const rows = p.chunks.map((c, i) => ({
    chunk_index: c.index,
    content: c.content,
    start_char: c.startChar,
    end_char: c.endChar,
    section: c.section ?? null,
    page: c.page ?? null,
    embedded_sha256: textSha256(p.texts[i]!),
    embedding: vectorSql(p.vectors[i]!),
  }));
  await tx.query(
    `INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
       end_char, section, page, access_tier, document_type, tags, publication_date, metadata, embedded_sha256,
       valid_from, valid_from_at, is_current, embedding)
     SELECT $1, $2, $3, d.coach_id, $4, r.chunk_index, $5, r.content, r.start_char, r.end_char, r.section, r.page,
       $6, $7, ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9, $10::jsonb, r.embedded_sha256, $11, $12,
       NOT EXISTS (SELECT 1 FROM chunks n WHERE n.space = $1 AND n.chunker = $2 AND n.document_id = $3
                   AND n.version > $4),
       r.embedding::vector
     FROM jsonb_to_recordset($13::jsonb) AS r(chunk_index int, content text, start_char int, end_char int,
       section text, page int, embedded_sha256 text, embedding text)
     CROSS JOIN (SELECT $14::text AS coach_id) d
     ON CONFLICT DO NOTHING`,
    [
      space,
      chunker,
      documentId,
      version,
      s.title,
      s.metadata.accessTier,
      s.metadata.documentType,
      JSON.stringify(s.metadata.tags ?? []),
      s.metadata.publicationDate ?? null,
      JSON.stringify(s.metadata),
      r.position,
      r.recordedAt.toISOString(),
      JSON.stringify(rows),
      await coachOf(tx, r),
    ],
  );
}

/** The coach of a document: in the upload event's clear data, and in the inline `documents` read model. */
async function coachOf(tx: SqlExecutor, r: RecordedEvent): Promise<string> {
  const inEvent = (r.data as { coachId?: string }).coachId;
  if (inEvent) return inEvent;
  const { rows } = await tx.query<{ coach_id: string }>(
    'SELECT coach_id FROM documents WHERE document_id = $1',
    [documentIdOf(r)],
  );
  if (!rows[0]) throw new Error(`document ${documentIdOf(r)} has no row in documents`);
  return rows[0].coach_id;
}

async function close(tx: SqlExecutor, [space, chunker]: string[], r: RecordedEvent): Promise<void> {
  await tx.query(
    `UPDATE chunks SET is_current = false, valid_to = $4, valid_to_at = $5
     WHERE space = $1 AND chunker = $2 AND document_id = $3 AND is_current`,
    [space, chunker, documentIdOf(r), r.position, r.recordedAt.toISOString()],
  );
}

/** Every chunk of every configuration, the vectors only it used, and the cached results of its coach. */
async function erase(tx: SqlExecutor, documentId: string): Promise<void> {
  const { rows } = await tx.query<{ coach_id: string }>(
    'SELECT DISTINCT coach_id FROM chunks WHERE document_id = $1',
    [documentId],
  );
  await tx.query(
    `WITH gone AS (DELETE FROM chunks WHERE document_id = $1 RETURNING space, embedded_sha256)
     DELETE FROM embedding_cache c USING gone g
     WHERE c.space = g.space AND c.text_sha256 = g.embedded_sha256
       AND NOT EXISTS (SELECT 1 FROM chunks o WHERE o.space = g.space AND o.embedded_sha256 = g.embedded_sha256
                       AND o.document_id <> $1)`,
    [documentId],
  );
  for (const { coach_id } of rows)
    await tx.query('DELETE FROM rag_query_cache WHERE coach_id = $1', [coach_id]);
}

async function deadLetter(
  tx: SqlExecutor,
  p: Projection,
  r: RecordedEvent,
  d: Extract<Prepared, { kind: 'dead' }>,
): Promise<void> {
  await tx.query(
    `INSERT INTO projection_dead_letters (projection, version, position, event_id, event_type, stream_id, error_code, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [p.name, p.version, r.position, r.eventId, r.type, r.streamId, d.code, d.error.slice(0, 2000)],
  );
}
