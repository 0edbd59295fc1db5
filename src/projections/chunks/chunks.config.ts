import type { AppConfig } from '../../infrastructure/config/config.js';
import {
  createEmbedder,
  embedderOptions,
  recreateEmbedder,
} from '../../infrastructure/embeddings/create-embedder.js';
import type { Embedder } from '../../infrastructure/embeddings/embedder.js';
import {
  measuredEmbedder,
  noEmbeddingRecorder,
  type EmbeddingRecorder,
} from '../../infrastructure/embeddings/measured-embedder.js';
import { validateChunkerConfig } from './chunker.js';
import { chunksProjection, type ChunksProjection, type ChunksVersionConfig } from './chunks.projection.js';
import { EMBEDDED_MAX_BLOCKING_BUILD_CHUNKS } from './vector-index-lifecycle.js';
import { EXACT_SEARCH_MAX } from './planner-estimates.js';
import type { VectorIndexConfig } from './vector-index.js';

export interface ChunksSetup {
  embedder: Embedder;
  projection: ChunksProjection;
}

/** The live chunks version's checkpoint, read at start-up (see `chunksFromConfig`). */
export interface LiveVersion {
  version: number;
  config: Record<string, unknown> | null;
}

/** The hybrid's default text weight with the local embedder (the vector ranking weighs 1). */
export const LOCAL_HYBRID_TEXT_WEIGHT = 20;

/** The default least cosine similarity of a vector candidate with the local embedder (see `minSimilarityOf`). */
export const LOCAL_MIN_SIMILARITY = 0.19;
/** The same with an OpenAI-like model. */
export const OPENAI_MIN_SIMILARITY = 0.2;

/**
 * The vector floor of a served version: SEARCH_MIN_SIMILARITY when set, else its embedder's default. The scales
 * differ: the local embedder is lexical, a chunk that shares no word with the query is near 0 and the floor is
 * chosen on the development set (`bench/scifact.ts --proxy --floors`, BENCHMARKS.md) to keep its quality while
 * off-topic queries come back empty; OpenAI's text-embedding-3 models put unrelated texts low but above 0.
 */
export function minSimilarityOf(space: string, configured: number | undefined): number {
  return configured ?? (space.startsWith('local:') ? LOCAL_MIN_SIMILARITY : OPENAI_MIN_SIMILARITY);
}

/**
 * The chunks projection over `embedder` (the configured one; the app module passes the one it provides as
 * EMBEDDER) and its vector index, as the environment configures them; and, when the live version of the chunks was built with another configuration,
 * a companion that keeps serving (and projecting) that version until this one has caught up and takes over
 * (blue/green). `recorder` hears of every embedding: the projections' (index) and the searches' (query, through
 * the embedder returned).
 */
export function chunksFromConfig(
  config: AppConfig,
  live?: LiveVersion,
  embedder: Embedder = createEmbedder(config),
  recorder: EmbeddingRecorder = noEmbeddingRecorder,
) {
  const index = indexFromConfig(config);
  const chunker = validateChunkerConfig({
    targetTokens: config.CHUNK_TARGET_TOKENS,
    overlapTokens: config.CHUNK_OVERLAP_TOKENS,
    maxTokens: config.CHUNK_MAX_TOKENS,
  });
  // The local embedder is lexical, so BM25 is the stronger ranking and the vector ranking mostly re-orders its
  // near ties: 20 is the best text weight on a development set that does not touch SciFact's test judgments
  // (`bench/scifact.ts --proxy`; BENCHMARKS.md). An OpenAI-like model is semantic: the two rankings weigh the same.
  const hybridTextWeight =
    config.SEARCH_HYBRID_TEXT_WEIGHT ??
    (config.EMBEDDINGS_PROVIDER === 'local' ? LOCAL_HYBRID_TEXT_WEIGHT : 1);
  const projection = chunksProjection({
    ...{ embedder, chunker, index },
    indexBuildMemoryMb: config.INDEX_BUILD_MEMORY_MB,
    maxBlockingBuildChunks: maxBlockingBuildChunksOf(config),
    indexMinChunks: indexMinChunksOf(config),
    embedderOptions: embedderOptions(config),
    recorder,
  });
  const companion =
    live && live.version !== projection.version ? companionOf(config, live, index, recorder) : undefined;
  const queryEmbeddingTimeoutMs = config.SEARCH_EMBEDDING_TIMEOUT_MS;
  const minSimilarity = config.SEARCH_MIN_SIMILARITY;
  const indexMinChunks = indexMinChunksOf(config);
  return {
    ...{ embedder: measuredEmbedder(embedder, recorder, 'query'), index, hybridTextWeight, minSimilarity },
    ...{ queryEmbeddingTimeoutMs, projection, companion, indexMinChunks },
  };
}

/** Only the embedded database bounds a build that blocks its one session (vector-index-lifecycle.ts). */
function maxBlockingBuildChunksOf(config: AppConfig): number | undefined {
  return config.DATABASE_URL ? undefined : EMBEDDED_MAX_BLOCKING_BUILD_CHUNKS;
}

/**
 * Up to EXACT_SEARCH_MAX current chunks every vector search is an exact scan and the index would only be paid
 * for (row by row, the most expensive write of an upload: BENCHMARKS.md, "Ingest: where the time goes"). The
 * embedded database builds it sooner, while the build is still short enough to block its one session.
 */
function indexMinChunksOf(config: AppConfig): number {
  if (config.VECTOR_INDEX_MIN_CHUNKS !== undefined) return config.VECTOR_INDEX_MIN_CHUNKS;
  return config.DATABASE_URL
    ? EXACT_SEARCH_MAX
    : Math.min(EXACT_SEARCH_MAX, EMBEDDED_MAX_BLOCKING_BUILD_CHUNKS);
}

function indexFromConfig(config: AppConfig): VectorIndexConfig {
  return config.VECTOR_INDEX === 'ivfflat'
    ? { kind: 'ivfflat', lists: config.IVFFLAT_LISTS, probes: config.IVFFLAT_PROBES }
    : {
        kind: 'hnsw',
        m: config.HNSW_M,
        efConstruction: config.HNSW_EF_CONSTRUCTION,
        efSearch: config.HNSW_EF_SEARCH,
      };
}

/** The live version's projection and embedder, when its recorded configuration can be made again here. */
function companionOf(
  config: AppConfig,
  live: LiveVersion,
  index: VectorIndexConfig,
  recorder: EmbeddingRecorder,
): ChunksSetup | undefined {
  const c = live.config as Partial<ChunksVersionConfig> | null;
  const embedder = c?.embedder ? recreateEmbedder(c.embedder, config) : undefined;
  if (!c?.chunkerConfig || !embedder || embedder.space !== c.space) return undefined;
  const projection = chunksProjection({
    embedder,
    chunker: validateChunkerConfig(c.chunkerConfig),
    // Its own index kind and size may differ; search settings come from this process's configuration.
    index,
    indexBuildMemoryMb: config.INDEX_BUILD_MEMORY_MB,
    maxBlockingBuildChunks: maxBlockingBuildChunksOf(config),
    indexMinChunks: indexMinChunksOf(config),
    embedderOptions: c.embedder,
    companion: true,
    recorder,
  });
  const query = measuredEmbedder(embedder, recorder, 'query');
  return projection.version === live.version ? { embedder: query, projection } : undefined;
}
