import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AppError } from '../../domain/errors.js';
import { EmbeddingError, type Embedder } from '../../infrastructure/embeddings/embedder.js';
import type { SqlClient, SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { vectorText } from '../../infrastructure/sql/vector-array.js';
import type { SearchRequest } from './search.schema.js';
import { literal, vectorSearchSettings, type VectorIndexConfig } from './vector-index.js';

export interface SearchResult {
  documentId: string;
  title: string;
  version: number;
  chunkIndex: number;
  content: string;
  score: number;
  startChar: number;
  endChar: number;
  section?: string;
  page?: number;
  metadata: Record<string, unknown>;
}

/**
 * BM25 candidates are the chunks with one of the query's rarest words, taken rarest first while together they are
 * in at most this many chunks (the rarest word always counts). Common words still score every candidate; they
 * just do not make a chunk worth fetching on their own. This bounds the work of a query at any corpus size
 * (a query of common words only scores the chunks of its rarest word).
 */
export const CANDIDATE_BUDGET = 2_000;

/**
 * A vector search whose filters leave at most this many chunks (by the planner's estimate) compares the query
 * with each of them (exact nearest neighbours) instead of walking the vector index: it misses nothing, and up to
 * this size it is about as fast as the index's scan. Measured at 100,000 chunks of 512 dimensions, vectors in the
 * row (migration 0011): ~2.6 µs a chunk found through an index (4 ms for a tag on 1,278 chunks, 26 ms for one on
 * 9,949), ~2 µs read sequentially (~200 ms for all), against 23–35 ms p50 for the HNSW scan at ef_search 500
 * with or without a filter (recall@10 ~0.95–0.98): the exact scan of 12,000 chunks takes about the index's p50
 * (~30 ms), steadier than its p95 (~50 ms), and misses nothing. A coach with a small library, a rare tag, a narrow
 * filter. Above it, the index.
 */
export const EXACT_SEARCH_MAX = 12_000;

/**
 * How long the planner's estimate of the chunks a filter set leaves is reused (per ChunkSearch, at most
 * ESTIMATES_MAX filter sets). The estimate comes from the table's statistics, which only ANALYZE (autovacuum)
 * changes; asking again on every search cost a planning round trip, ~0.6 ms, a fifth of a 1 %-filter search at
 * 100,000 chunks. A stale estimate can only choose the slower path, or the index where an exact scan was due,
 * for at most this long; the results stay those of a vector search either way.
 */
export const ESTIMATE_TTL_MS = 60_000;
export const ESTIMATES_MAX = 1_000;

/** Reciprocal rank fusion's constant (Cormack et al. 2009): a result at rank r contributes 1 / (60 + r). */
export const RRF_K = 60;

interface Row {
  id: string;
  document_id: string;
  title: string;
  version: number;
  chunk_index: number;
  content: string;
  score: number;
  start_char: number;
  end_char: number;
  section: string | null;
  page: number | null;
  metadata: Record<string, unknown>;
}

const COLUMNS = `c.id::text AS id, c.document_id::text AS document_id, c.title, c.version, c.chunk_index, c.content,
  c.start_char, c.end_char, c.section, c.page, c.metadata`;

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
  /** The planner's row estimates, by filter SQL and parameters (see ESTIMATE_TTL_MS). */
  private readonly estimates = new LRUCache<string, number>({ max: ESTIMATES_MAX, ttl: ESTIMATE_TTL_MS });

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
  ): Promise<Row[]> {
    const where = this.where(request, freeOnly);
    const dims = this.scope.dimensions;
    const distance = `c.embedding::vector(${dims}) <=> $${where.params.length + 1}::vector(${dims})`;
    // Per part, exact or by the index, from the planner's estimate of the chunks the filters leave (the
    // statistics of coach_id, tags, document_type…; one planning round trip, no execution, then cached).
    const few = this.scope.exactSearchMax ?? EXACT_SEARCH_MAX;
    // The exact form computes each distance once (OFFSET 0 keeps the subquery whole, so the sort above it cannot
    // be an index scan), sorts ids and distances only, then reads the columns of the nearest.
    const nearest = (part: string, i: number, exact: boolean) =>
      exact
        ? `part${i} AS MATERIALIZED (
        SELECT ${COLUMNS}, n.distance FROM (
          SELECT id, distance FROM (SELECT c.id, ${distance} AS distance FROM chunks c WHERE ${part} OFFSET 0) d
          ORDER BY distance LIMIT ${limit}
        ) n JOIN chunks c ON c.id = n.id)`
        : `part${i} AS MATERIALIZED (
        SELECT ${COLUMNS}, ${distance} AS distance FROM chunks c WHERE ${part} ORDER BY ${distance} LIMIT ${limit})`;
    const params = [...where.params, vectorText(vector)];
    const run = async (tx: SqlExecutor) => {
      const exact: boolean[] = [];
      for (const bound of where.bounds) exact.push((await this.estimate(tx, bound, where.params)) <= few);
      // The floor filters the nearest, not the scan: inside it, the index would keep walking for k chunks above it.
      const floor =
        this.scope.minSimilarity === undefined ? '' : `WHERE distance <= ${1 - this.scope.minSimilarity}`;
      const sql = `WITH ${where.parts.map((part, i) => nearest(part, i, exact[i]!)).join(',\n')}
        SELECT *, 1 - distance AS score FROM (${where.parts.map((_, i) => `SELECT * FROM part${i}`).join(' UNION ALL ')}) n
        ${floor} ORDER BY distance, id LIMIT ${limit}`;
      // SET LOCAL lasts until the end of the transaction: the hybrid's text query is not affected by it.
      for (const setting of vectorSearchSettings(this.scope.index)) await tx.exec(setting);
      return (await tx.query<Row>(sql, params)).rows;
    };
    return inTx ? run(inTx) : this.sql.transaction(run);
  }

  /** The planner's estimate of the rows of `chunks c WHERE bound` (one EXPLAIN, nothing executed), cached. */
  private async estimate(tx: SqlExecutor, bound: string, params: unknown[]): Promise<number> {
    const key = `${bound}\u0000${JSON.stringify(params)}`;
    const cached = this.estimates.get(key);
    if (cached !== undefined) return cached;
    const estimate = await plannedRows(tx, `SELECT 1 FROM chunks c WHERE ${bound}`, params);
    this.estimates.set(key, estimate);
    return estimate;
  }

  /**
   * BM25 over PostgreSQL's full-text index: the query's lexemes (english stemming) OR-ed find the candidates in
   * the GIN index; each is scored by BM25 (k1 = 1.2, b = 0.75) with term frequencies from its tsvector and the
   * coach's document frequencies from `chunk_lexemes` (a free reader: the free tier's only). Chunk length is
   * its number of distinct lexemes. Only the query's lexemes are unnested from each candidate's tsvector
   * (`setweight` marks them, `ts_filter` keeps them), not the whole vector. Candidates are the chunks with one
   * of the query's rarest words (see CANDIDATE_BUDGET). The statistics are of the current corpus; an as-of search
   * ranks with them too, a word no current chunk has counting as the rarest. An as-of search finds its candidates
   * in two GIN indexes, current and past chunks (like the vector side).
   */
  async text(
    request: SearchRequest,
    freeOnly: boolean,
    limit: number,
    on: SqlExecutor = this.sql,
  ): Promise<Row[]> {
    const where = this.where(request, freeOnly);
    const n = where.params.length;
    const [q, coach] = [`$${n + 1}`, `$${n + 2}`];
    const scope = `space = ${literal(this.scope.space)} AND chunker = ${literal(this.scope.chunker)} AND coach_id = ${coach}
      ${freeOnly ? `AND access_tier = 'free'` : ''}`;
    const sql = `WITH stats AS (
        -- avgdl is at least 1: an as-of search can find chunks of a coach that has no current chunk any more.
        SELECT coalesce(sum(chunks), 0) AS n,
          greatest(coalesce(sum(total_length), 0)::float8 / greatest(sum(chunks), 1), 1) AS avgdl
        FROM chunk_stats WHERE ${scope}),
      terms AS (
        SELECT q.lexeme, ln(1 + (s.n - coalesce(l.df, 0) + 0.5) / (coalesce(l.df, 0) + 0.5)) AS idf,
          -- The rarest words, until together they are in more than CANDIDATE_BUDGET chunks (the rarest always).
          sum(coalesce(l.df, 0)) OVER (ORDER BY coalesce(l.df, 0), q.lexeme) <= ${CANDIDATE_BUDGET}
            OR row_number() OVER (ORDER BY coalesce(l.df, 0), q.lexeme) = 1 AS selective
        FROM (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', ${q}))) AS lexeme) q
        CROSS JOIN stats s
        LEFT JOIN (SELECT lexeme, sum(df) AS df FROM chunk_lexemes
                   WHERE ${scope} AND lexeme = ANY (tsvector_to_array(to_tsvector('english', ${q})))
                   GROUP BY lexeme) l USING (lexeme)),
      tsq AS (SELECT string_agg(quote_literal(lexeme), ' | ') FILTER (WHERE selective)::tsquery AS q FROM terms),
      matched AS (${where.parts
        .map(
          (part) => `SELECT ${COLUMNS}, c.tsv FROM chunks c WHERE c.tsv @@ (SELECT q FROM tsq) AND ${part}`,
        )
        .join(' UNION ALL ')})
      SELECT m.id, m.document_id, m.title, m.version, m.chunk_index, m.content, m.start_char, m.end_char, m.section,
        m.page, m.metadata,
        (SELECT sum(t.idf * u.tf * 2.2 / (u.tf + 1.2 * (0.25 + 0.75 * length(m.tsv) / s.avgdl)))
         FROM (SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf
               FROM unnest(ts_filter(setweight(m.tsv, 'A', l.lexemes), '{a}'))) u
         JOIN terms t USING (lexeme)) AS score
      FROM matched m, stats s, (SELECT array_agg(lexeme) AS lexemes FROM terms) l
      ORDER BY score DESC, m.id LIMIT ${limit}`;
    return (await on.query<Row>(sql, [...where.params, request.query, request.coachId])).rows;
  }

  /**
   * The request's filters as SQL, in one part per index to read: the current chunks; or for an as-of search,
   * the current chunks valid since before then and the past chunks valid then (see vector-index.ts); `bounds`:
   * the same without the validity window, whose estimated rows decide exact or indexed search (see vector).
   */
  private where(
    r: SearchRequest,
    freeOnly: boolean,
  ): { parts: string[]; bounds: string[]; params: unknown[] } {
    // Space and chunker are inlined so that the planner can match the partial indexes' predicates.
    const clauses = [`c.space = ${literal(this.scope.space)}`, `c.chunker = ${literal(this.scope.chunker)}`];
    const params: unknown[] = [];
    const bind = (value: unknown) => `$${params.push(value)}`;
    clauses.push(`c.coach_id = ${bind(r.coachId)}`);
    const f = r.filters ?? {};
    if (freeOnly) clauses.push(`c.access_tier = 'free'`);
    if (f.accessTier) clauses.push(`c.access_tier = ${bind(f.accessTier)}`);
    // Arrays are bound as text[] (not built from JSON in a subquery) so that the planner can estimate them.
    if (f.tags?.length) clauses.push(`c.tags && ${bind(f.tags)}::text[]`);
    if (f.documentTypes?.length) clauses.push(`c.document_type = ANY (${bind(f.documentTypes)}::text[])`);
    if (f.publishedAfter) clauses.push(`c.publication_date >= ${bind(f.publishedAfter)}`);
    if (f.publishedBefore) clauses.push(`c.publication_date <= ${bind(f.publishedBefore)}`);
    const common = clauses.join(' AND ');
    if (!r.asOf)
      return { parts: [`${common} AND c.is_current`], bounds: [`${common} AND c.is_current`], params };
    const at = `${bind(r.asOf)}::timestamptz`;
    return {
      parts: [
        `${common} AND c.is_current AND c.valid_from_at <= ${at}`,
        `${common} AND NOT c.is_current AND c.valid_from_at <= ${at} AND c.valid_to_at > ${at}`,
      ],
      // Without the validity window: the planner multiplies the window's two bounds as if independent and
      // underestimates the past chunks valid at T (seen: exact scans of ~10,000 past chunks, as-of vector
      // searches at 149 ms against 49 ms current). (The moment stays referenced: every parameter must be.)
      bounds: [
        `${common} AND c.is_current AND ${at} IS NOT NULL`,
        `${common} AND NOT c.is_current AND ${at} IS NOT NULL`,
      ],
      params,
    };
  }
}

/** The planner's estimate of the rows a statement returns: its EXPLAIN, nothing executed. */
export async function plannedRows(
  on: SqlExecutor,
  sql: string,
  params: readonly unknown[] = [],
): Promise<number> {
  const { rows } = await on.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    params,
  );
  return rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows'];
}

/** Weighted reciprocal rank fusion of rankings of the same rows (by id); ties broken by id for determinism. */
export function fuse(rankings: Row[][], k: number, weights: number[] = rankings.map(() => 1)): Row[] {
  const fused = new Map<string, { row: Row; score: number }>();
  for (const [r, ranking] of rankings.entries()) {
    ranking.forEach((row, i) => {
      const entry = fused.get(row.id) ?? { row, score: 0 };
      entry.score += weights[r]! / (RRF_K + i + 1);
      fused.set(row.id, entry);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.row.id.localeCompare(b.row.id))
    .slice(0, k)
    .map(({ row, score }) => ({ ...row, score }));
}

function toResult(r: Row): SearchResult {
  return {
    documentId: r.document_id,
    title: r.title,
    version: r.version,
    chunkIndex: r.chunk_index,
    content: r.content,
    score: Number(r.score),
    startChar: r.start_char,
    endChar: r.end_char,
    ...(r.section ? { section: r.section } : {}),
    ...(r.page ? { page: r.page } : {}),
    metadata: r.metadata,
  };
}

/** The query cache's key: everything that decides the answer, normalised, plus the read model's position. */
export function queryCacheKey(
  request: SearchRequest,
  freeOnly: boolean,
  scope: SearchScope,
  position: string | null,
) {
  const normalised = {
    ...request,
    query: request.query.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim(),
    filters: normaliseFilters(request.filters),
    minPosition: undefined,
    freeOnly,
    space: scope.space,
    chunker: scope.chunker,
    hybridTextWeight: scope.hybridTextWeight,
    minSimilarity: scope.minSimilarity,
    position,
  };
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex');
}

function normaliseFilters(f: SearchRequest['filters']) {
  if (!f) return undefined;
  return {
    ...f,
    tags: f.tags ? [...new Set(f.tags)].sort() : undefined,
    documentTypes: f.documentTypes ? [...new Set(f.documentTypes)].sort() : undefined,
  };
}
