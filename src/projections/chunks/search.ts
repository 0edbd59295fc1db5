import { AppError } from '../../domain/errors.js';
import { EmbeddingError, type Embedder } from '../../infrastructure/embeddings/embedder.js';
import type { SqlClient, SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { vectorText } from '../../infrastructure/sql/vector-array.js';
import { fuse } from './fusion.js';
import { EXACT_SEARCH_MAX, ScanChoice } from './planner-estimates.js';
import type { SearchRequest } from './search.schema.js';
import { searchFilters } from './search-filters.js';
import { toResult, type ChunkRow, type SearchResult } from './search-rows.js';
import type { SearchScope } from './search-scope.js';
import { textSearchSql } from './text-search.js';
import { vectorSearchSettings } from './vector-index.js';
import { vectorSearchSql } from './vector-search.js';

// The search's public surface stays importable from here; each part lives in its own module.
export { fuse, RRF_K } from './fusion.js';
export { EXACT_SEARCH_MAX, plannedRows } from './planner-estimates.js';
export { queryCacheKey } from './query-cache-key.js';
export type { SearchResult } from './search-rows.js';

/** The embedding provider did not embed the query in time, or refused it: vector and hybrid search cannot run. */
export class EmbeddingsUnavailableError extends AppError {
  readonly code = 'EMBEDDINGS_UNAVAILABLE';
  readonly status = 503;
}

export const QUERY_EMBEDDING_TIMEOUT_MS = 10_000;

/**
 * The three search modes over the `chunks` read model. Filters go into the SQL (so that the vector index's
 * iterative scan keeps looking until k rows pass them); `freeOnly` is the reader's tier, not a request option.
 */
export class ChunkSearch {
  private readonly scans = new ScanChoice();

  constructor(
    private readonly sql: SqlClient,
    private readonly embedder: Embedder,
    readonly scope: SearchScope,
  ) {}

  async search(request: SearchRequest, freeOnly: boolean): Promise<SearchResult[]> {
    const { mode, k } = request;
    if (mode === 'text') return (await this.text(request, freeOnly, k)).map(toResult);
    const vector = await this.embedQuery(request.query);
    if (mode === 'vector') return (await this.vector(request, freeOnly, vector!, k)).map(toResult);
    // Hybrid: each side ranks at least 100 candidates, then the ranks are fused.
    const depth = Math.max(100, k);
    return this.sql.transaction(async (tx) => {
      const byVector = await this.vector(request, freeOnly, vector!, depth, tx);
      // The vector floor gates the whole hybrid: when no chunk passes it the query is off-topic, and BM25's
      // matches of its common words alone would be noise, not weak answers (see BENCHMARKS.md, hybrid gate).
      if (!byVector.length) return [];
      const byText = await this.text(request, freeOnly, depth, tx);
      return fuse([byVector, byText], k, [1, this.scope.hybridTextWeight ?? 1]).map(toResult);
    });
  }

  /** The query's vector, within the scope's time budget (the provider's retries included). */
  private async embedQuery(query: string): Promise<Float32Array> {
    const ms = this.scope.queryEmbeddingTimeoutMs ?? QUERY_EMBEDDING_TIMEOUT_MS;
    const signal = AbortSignal.timeout(ms);
    try {
      const [vector] = await this.embedder.embed([query], { signal });
      return vector!;
    } catch (error) {
      if (!signal.aborted && !(error instanceof EmbeddingError)) throw error;
      const why = signal.aborted ? `did not answer within ${ms} ms` : (error as Error).message;
      throw new EmbeddingsUnavailableError(
        `the embedding provider cannot embed the query (${why}); mode "text" does not need it`,
      );
    }
  }

  /**
   * Nearest chunks by cosine distance; `score` is the cosine similarity. An as-of search reads the current chunks
   * that were already valid then and the past chunks that were still valid then, each through its own vector
   * index, and keeps the nearest of both. Where the filters leave few chunks, they are compared exactly instead.
   */
  async vector(
    request: SearchRequest,
    freeOnly: boolean,
    vector: Float32Array,
    limit: number,
    inTx?: SqlExecutor,
  ): Promise<ChunkRow[]> {
    const where = searchFilters(this.scope, request, freeOnly);
    const params = [...where.params, vectorText(vector)];
    const run = async (tx: SqlExecutor) => {
      const exact = await this.scans.exactParts(tx, where, this.scope.exactSearchMax ?? EXACT_SEARCH_MAX);
      const sql = vectorSearchSql(where, exact, this.scope.dimensions, limit, this.scope.minSimilarity);
      // SET LOCAL lasts until the end of the transaction: the hybrid's text query is not affected by it.
      for (const setting of vectorSearchSettings(this.scope.index)) await tx.exec(setting);
      return (await tx.query<ChunkRow>(sql, params)).rows;
    };
    return inTx ? run(inTx) : this.sql.transaction(run);
  }

  /** BM25 ranking of the chunks with the query's words (see textSearchSql). */
  async text(
    request: SearchRequest,
    freeOnly: boolean,
    limit: number,
    on: SqlExecutor = this.sql,
  ): Promise<ChunkRow[]> {
    const where = searchFilters(this.scope, request, freeOnly);
    const sql = textSearchSql(this.scope, where, freeOnly, limit);
    return (await on.query<ChunkRow>(sql, [...where.params, request.query, request.coachId])).rows;
  }
}
