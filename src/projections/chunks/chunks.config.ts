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
      : { kind: 'hnsw', m: config.HNSW_M, efConstruction: config.HNSW_EF_CONSTRUCTION, efSearch: config.HNSW_EF_SEARCH };
  const chunker = validateChunkerConfig({
    targetTokens: config.CHUNK_TARGET_TOKENS,
    overlapTokens: config.CHUNK_OVERLAP_TOKENS,
    maxTokens: config.CHUNK_MAX_TOKENS,
  });
  return { embedder, index, projection: chunksProjection({ embedder, chunker, index }) };
}
