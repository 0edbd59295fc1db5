import type { Snapshot } from '../../domain/document/document.js';
import { EmbeddingError } from '../../infrastructure/embeddings/embedder.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { timeSlice } from '../../infrastructure/time-slice.js';
import { openDocumentEvents } from '../documents/open-document-events.js';
import type { Chunk, ChunkerConfig } from './chunker.js';
import { chunkOffThread } from './chunker-thread.js';
import type { EmbeddingCache } from './embedding-cache.js';
import { VERSION_EVENT_TYPES } from './pending-work.js';

/** A new document version's chunks, the texts embedded for them and their vectors. */
export interface PreparedVersion {
  kind: 'version';
  snapshot: Snapshot;
  chunks: Chunk[];
  texts: string[];
  vectors: Float32Array[];
}

/** What `prepare` found for one event: its chunks and their vectors, or why it goes to the dead letters. */
export type Prepared = PreparedVersion | { kind: 'dead'; code: string; error: string };

/** The chunks projection's prepared batch, by event id, with the hashes whose vectors were found saved. */
export interface PreparedBatch {
  byEvent: Map<string, Prepared>;
  saved: string[];
}

const VERSION_EVENTS = new Set(VERSION_EVENT_TYPES);

/** The text that is embedded for a chunk: the document's title and the chunk's section give it context. */
export function embeddingText(title: string, chunk: Pick<Chunk, 'content' | 'section'>): string {
  return [title, chunk.section, chunk.content].filter(Boolean).join('\n\n');
}

/**
 * Chunks and embeds every new document version of a batch, before (and outside) the projector's transaction.
 * An input the embedder refuses sets only its own event aside (a dead letter); an outage fails the batch, which
 * is retried.
 */
export async function prepareChunks(
  sql: SqlExecutor,
  events: readonly RecordedEvent[],
  chunker: ChunkerConfig,
  cache: EmbeddingCache,
): Promise<PreparedBatch> {
  const byEvent = await chunkVersions(sql, events, chunker);
  const saved = await embedVersions(sql, byEvent, cache);
  return { byEvent, saved };
}

async function chunkVersions(
  sql: SqlExecutor,
  events: readonly RecordedEvent[],
  chunker: ChunkerConfig,
): Promise<Map<string, Prepared>> {
  const byEvent = new Map<string, Prepared>();
  const slice = timeSlice(); // chunking a batch takes seconds: keep the process's HTTP requests going
  for (const { recorded, event } of await openDocumentEvents(sql, events)) {
    await slice();
    if (!VERSION_EVENTS.has(event.type)) continue;
    const snapshot = (event.data as { snapshot: Snapshot }).snapshot;
    const chunks = await chunkOffThread(snapshot, chunker);
    const texts = chunks.map((c) => embeddingText(snapshot.title, c));
    byEvent.set(recorded.eventId, { kind: 'version', snapshot, chunks, texts, vectors: [] });
  }
  return byEvent;
}

/** Sets the vectors of the batch's versions; returns the hashes whose vectors were found saved in the cache. */
async function embedVersions(
  sql: SqlExecutor,
  byEvent: Map<string, Prepared>,
  cache: EmbeddingCache,
): Promise<string[]> {
  const saved: string[] = [];
  const versions = [...byEvent.entries()].filter(([, p]) => p.kind === 'version');
  try {
    await embedAll(sql, cache, versions, saved);
  } catch (error) {
    if (!isDeterministic(error)) throw error;
    // One input was refused: embed event by event to find which, and set only those aside.
    saved.length = 0;
    for (const entry of versions) {
      try {
        await embedAll(sql, cache, [entry], saved);
      } catch (e) {
        if (!isDeterministic(e)) throw e;
        byEvent.set(entry[0], { kind: 'dead', code: 'EMBEDDING_REFUSED', error: (e as Error).message });
      }
    }
  }
  return saved;
}

async function embedAll(
  sql: SqlExecutor,
  cache: EmbeddingCache,
  entries: Array<[string, Prepared]>,
  saved: string[],
): Promise<void> {
  const texts = entries.flatMap(([, p]) => (p.kind === 'version' ? p.texts : []));
  const result = await cache.embed(sql, texts);
  let i = 0;
  for (const [, p] of entries) {
    if (p.kind !== 'version') continue;
    p.vectors = result.vectors.slice(i, i + p.texts.length);
    i += p.texts.length;
  }
  saved.push(...result.saved);
}

function isDeterministic(error: unknown): boolean {
  return error instanceof EmbeddingError && !error.retryable;
}
