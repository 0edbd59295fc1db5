import type { SearchFilters } from './search-filters.js';
import { COLUMNS } from './search-rows.js';
import type { SearchScope } from './search-scope.js';
import { literal } from './vector-index.js';

/**
 * BM25 candidates are the chunks with one of the query's rarest words, taken rarest first while together they are
 * in at most this many chunks (the rarest word always counts). Common words still score every candidate; they
 * just do not make a chunk worth fetching on their own. This bounds the work of a query at any corpus size
 * (a query of common words only scores the chunks of its rarest word).
 */
export const CANDIDATE_BUDGET = 2_000;

/**
 * The SQL of a text search, its parameters the filters' then the query and the coach. BM25 over PostgreSQL's
 * full-text index: the query's lexemes (english stemming) OR-ed find the candidates in the GIN index; each is
 * scored by BM25 (k1 = 1.2, b = 0.75) with term frequencies from its tsvector and the coach's document
 * frequencies from `chunk_lexemes` (a free reader: the free tier's only). Chunk length is its number of distinct
 * lexemes. Only the query's lexemes are unnested from each candidate's tsvector (`setweight` marks them,
 * `ts_filter` keeps them), not the whole vector. Candidates are the chunks with one of the query's rarest words
 * (see CANDIDATE_BUDGET). The statistics are of the current corpus; an as-of search ranks with them too, a word
 * no current chunk has counting as the rarest. An as-of search finds its candidates in two GIN indexes, current
 * and past chunks (like the vector side).
 */
export function textSearchSql(
  scope: SearchScope,
  where: SearchFilters,
  freeOnly: boolean,
  limit: number,
): string {
  const n = where.params.length;
  const [q, coach] = [`$${n + 1}`, `$${n + 2}`];
  // The coach's rows of the corpus statistics (chunk_stats, chunk_lexemes), in the reader's tier.
  const corpus = `space = ${literal(scope.space)} AND chunker = ${literal(scope.chunker)} AND coach_id = ${coach}
      ${freeOnly ? `AND access_tier = 'free'` : ''}`;
  return `WITH stats AS (
        -- avgdl is at least 1: an as-of search can find chunks of a coach that has no current chunk any more.
        SELECT coalesce(sum(chunks), 0) AS n,
          greatest(coalesce(sum(total_length), 0)::float8 / greatest(sum(chunks), 1), 1) AS avgdl
        FROM chunk_stats WHERE ${corpus}),
      terms AS (
        SELECT q.lexeme, ln(1 + (s.n - coalesce(l.df, 0) + 0.5) / (coalesce(l.df, 0) + 0.5)) AS idf,
          -- The rarest words, until together they are in more than CANDIDATE_BUDGET chunks (the rarest always).
          sum(coalesce(l.df, 0)) OVER (ORDER BY coalesce(l.df, 0), q.lexeme) <= ${CANDIDATE_BUDGET}
            OR row_number() OVER (ORDER BY coalesce(l.df, 0), q.lexeme) = 1 AS selective
        FROM (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', ${q}))) AS lexeme) q
        CROSS JOIN stats s
        LEFT JOIN (SELECT lexeme, sum(df) AS df FROM chunk_lexemes
                   WHERE ${corpus} AND lexeme = ANY (tsvector_to_array(to_tsvector('english', ${q})))
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
}
