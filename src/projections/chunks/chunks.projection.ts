import { createHash } from 'node:crypto';
import { DOCUMENT_EVENT_TYPES } from '../../infrastructure/documents/document-events.js';
import type { Embedder } from '../../infrastructure/embeddings/embedder.js';
import {
  measuredEmbedder,
  noEmbeddingRecorder,
  type EmbeddingRecorder,
} from '../../infrastructure/embeddings/measured-embedder.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { AsyncProjection } from '../../infrastructure/projections/projection.js';
import { prepareChunks, type Prepared, type PreparedBatch } from './chunk-preparation.js';
import { chunkSteps } from './chunk-steps.js';
import { closeChunks, eraseChunks, vacuumErased } from './chunk-removal.js';
import { coachesOf, documentIdOf, writeVersions, type ChunkScope, type VersionWrite } from './chunk-rows.js';
import { chunkerVersion, type ChunkerConfig } from './chunker.js';
import { DELETE_SAVING_VECTORS_SQL, EmbeddingCache } from './embedding-cache.js';
import { currentChunks, pendingChunks } from './pending-work.js';
import { lockQueryCaches } from './query-cache.js';
import { dropVectorIndexes, VectorIndexLifecycle } from './vector-index-lifecycle.js';
import type { VectorIndexConfig } from './vector-index.js';

export interface ChunksConfig {
  embedder: Embedder;
  chunker: ChunkerConfig;
  index: VectorIndexConfig;
  /** maintenance_work_mem for building the vector index (an HNSW graph that fits builds in memory). */
  indexBuildMemoryMb?: number;
  /** A load whose index build would index more chunks keeps the index (see VectorIndexLifecycle). */
  maxBlockingBuildChunks?: number;
  /** The vector index exists from this many current chunks up (VectorIndexLifecycle; default 0: always). */
  indexMinChunks?: number;
  /** How to make this embedder again (recorded with the checkpoint, for blue/green switches). */
  embedderOptions?: Record<string, unknown>;
  /** Kept only to serve searches until a new configuration is live (see AsyncProjection.companion). */
  companion?: boolean;
  /** Metrics of the embedder's calls and of the embedding cache. */
  recorder?: EmbeddingRecorder;
}

/** What a chunks version records with its checkpoint: enough to search it, and to keep projecting it. */
export interface ChunksVersionConfig {
  space: string;
  chunker: string;
  dimensions: number;
  chunkerConfig: ChunkerConfig;
  embedder?: Record<string, unknown>;
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
  const recorder = config.recorder ?? noEmbeddingRecorder;
  const cache = new EmbeddingCache(measuredEmbedder(config.embedder, recorder, 'index'), recorder);
  const space = config.embedder.space;
  const chunker = chunkerVersion(config.chunker);
  const scope: ChunkScope = [space, chunker];
  const { dimensions } = config.embedder;
  const indexes = new VectorIndexLifecycle(config.index, scope, dimensions, {
    buildMemoryMb: config.indexBuildMemoryMb,
    maxBlockingBuildChunks: config.maxBlockingBuildChunks,
    minChunks: config.indexMinChunks,
  });
  const recorded: ChunksVersionConfig = {
    ...{ space, chunker, dimensions, chunkerConfig: { ...config.chunker } },
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

    setup: (sql) => indexes.setup(sql),

    async prepare(sql, events): Promise<PreparedBatch> {
      const batch = await prepareChunks(sql, events, config.chunker, cache);
      if (events[0])
        await indexes.beforeBatch(sql, newChunks(batch), () =>
          pendingChunks(sql, events[0]!.position, config.chunker),
        );
      return batch;
    },

    steps: (events, prepared, budget) => chunkSteps(events, prepared as PreparedBatch, budget),

    async apply(tx, events, prepared) {
      await applyBatch(tx, this, scope, events, prepared as PreparedBatch);
    },

    idle: (sql) => indexes.restore(sql),

    async afterCommit(sql, events) {
      if (events.some((e) => e.type === 'DocumentErased')) await vacuumErased(sql);
    },

    async dropVersion(sql, old) {
      // The version that served until now: its chunks, its statistics (the delete trigger) and its vector index.
      const o = old as Partial<ChunksVersionConfig> | null;
      if (!o?.space || !o.chunker || (o.space === space && o.chunker === chunker)) return;
      // Its vectors stay in the cache, as they did when the cache held a copy of every vector (a deploy rolled
      // back to it embeds nothing again).
      await sql.query(DELETE_SAVING_VECTORS_SQL, [o.space, o.chunker]);
      await dropVectorIndexes(sql, o.space, o.chunker);
    },

    async truncate(tx) {
      const loading = await currentChunks(tx, scope); // what the replay will load again
      await tx.query(DELETE_SAVING_VECTORS_SQL, scope); // the replay embeds nothing again
      await indexes.reset(tx, loading);
      await tx.query('DELETE FROM projection_dead_letters WHERE projection = $1 AND version = $2', [
        this.name,
        this.version,
      ]);
    },
  };
}

/** The chunks a prepared batch will write. */
function newChunks(batch: PreparedBatch): number {
  let n = 0;
  for (const p of batch.byEvent.values()) if (p.kind === 'version') n += p.chunks.length;
  return n;
}

/**
 * New versions are written together, one statement for the whole run (the BM25 triggers then add up each word
 * once per run, not once per document); a run ends before an event that touches one of its documents.
 */
async function applyBatch(
  tx: SqlExecutor,
  projection: AsyncProjection,
  scope: ChunkScope,
  events: readonly RecordedEvent[],
  batch: PreparedBatch,
): Promise<void> {
  const saved = new Set(batch.saved);
  const erasedFrom = await lockErasedCoaches(tx, events);
  let run: VersionWrite[] = [];
  const flush = async () => {
    if (run.length > 0) await writeVersions(tx, scope, run, saved);
    run = [];
  };
  for (const recorded of events) {
    const p = batch.byEvent.get(recorded.eventId);
    const documentId = documentIdOf(recorded);
    if (run.some((w) => documentIdOf(w.recorded) === documentId)) await flush();
    if (p?.kind === 'dead') await deadLetter(tx, projection, recorded, p);
    else if (p) run.push({ recorded, p });
    else if (recorded.type === 'DocumentRetired') await closeChunks(tx, scope, recorded);
    else if (recorded.type === 'DocumentErased')
      await eraseChunks(tx, documentId, erasedFrom.get(documentId)!);
  }
  await flush();
}

/**
 * The query-cache locks of every coach this batch erases from, taken before anything else is written
 * (query-cache.ts); returns the coach of each erased document.
 */
async function lockErasedCoaches(
  tx: SqlExecutor,
  events: readonly RecordedEvent[],
): Promise<Map<string, string>> {
  const erasures = events.filter((e) => e.type === 'DocumentErased');
  const erasedFrom = erasures.length > 0 ? await coachesOf(tx, erasures) : new Map<string, string>();
  await lockQueryCaches(tx, [...erasedFrom.values()]);
  return erasedFrom;
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
