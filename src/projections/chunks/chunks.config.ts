import type { AppConfig } from '../../infrastructure/config/config.js';
import { createEmbedder } from '../../infrastructure/embeddings/create-embedder.js';
import { validateChunkerConfig } from './chunker.js';
import { chunksProjection } from './chunks.projection.js';
import type { VectorIndexConfig } from './vector-index.js';

/** The chunks projection, its embedder and its vector index, as the environment configures them. */
export function chunksFromConfig(config: AppConfig) {
  const embedder = createEmbedder(config);
  const index: VectorIndexConfig =
    config.VECTOR_INDEX === 'ivfflat'
      ? { kind: 'ivfflat', lists: config.IVFFLAT_LISTS, probes: config.IVFFLAT_PROBES }
      : {
          kind: 'hnsw',
          m: config.HNSW_M,
          efConstruction: config.HNSW_EF_CONSTRUCTION,
          efSearch: config.HNSW_EF_SEARCH,
        };
  const chunker = validateChunkerConfig({
    targetTokens: config.CHUNK_TARGET_TOKENS,
    overlapTokens: config.CHUNK_OVERLAP_TOKENS,
    maxTokens: config.CHUNK_MAX_TOKENS,
  });
  // The local embedder is lexical, so BM25 is the stronger ranking; an OpenAI-like model is semantic and the
  // two rankings weigh the same. (Measured on SciFact: BENCHMARKS.md.)
  const hybridTextWeight =
    config.SEARCH_HYBRID_TEXT_WEIGHT ?? (config.EMBEDDINGS_PROVIDER === 'local' ? 3 : 1);
  return {
    embedder,
    index,
    hybridTextWeight,
    projection: chunksProjection({
      ...{ embedder, chunker, index },
      indexBuildMemoryMb: config.INDEX_BUILD_MEMORY_MB,
    }),
  };
}
