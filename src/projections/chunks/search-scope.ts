import type { VectorIndexConfig } from './vector-index.js';

/** What a ChunkSearch searches (one embedding space and chunker) and how (index, fusion weight, floor). */
export interface SearchScope {
  space: string;
  chunker: string;
  dimensions: number;
  index: VectorIndexConfig;
  /** Weight of the text ranking in hybrid fusion (the vector ranking weighs 1). */
  hybridTextWeight?: number;
  /**
   * The least cosine similarity of a vector candidate (vector mode and the hybrid's vector side): below it a
   * chunk is noise, not a weak match, and the search returns fewer than k results, or none (a hybrid with no
   * vector candidate above it returns none, whatever the text side matches).
   */
  minSimilarity?: number;
  /** See EXACT_SEARCH_MAX (tests lower it). */
  exactSearchMax?: number;
  /** How long embedding the query may take, retries included (SEARCH_EMBEDDING_TIMEOUT_MS). */
  queryEmbeddingTimeoutMs?: number;
}
