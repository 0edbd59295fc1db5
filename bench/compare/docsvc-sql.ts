/**
 * The SQL docsvc runs for a vector search (k = 10, one coach, no filters), built by its own functions, to be run
 * bare next to the service: where the service's time goes.
 */
import type pg from 'pg';
import { EXACT_SEARCH_MAX, plannedRows } from '../../src/projections/chunks/planner-estimates.js';
import type { SearchRequest } from '../../src/projections/chunks/search.schema.js';
import { searchFilters } from '../../src/projections/chunks/search-filters.js';
import { DEFAULT_VECTOR_INDEX } from '../../src/projections/chunks/vector-index.js';
import { vectorSearchSql } from '../../src/projections/chunks/vector-search.js';

export async function docsvcVectorSql(
  sql: pg.Client,
  chunks: { space: string; chunker: string },
  coachId: string,
  dimensions: number,
  k: number,
): Promise<{ sql: string; params: (vector: string) => unknown[]; exact: boolean }> {
  const scope = { ...chunks, dimensions, index: DEFAULT_VECTOR_INDEX, minSimilarity: -1 };
  const request = { coachId, query: '', k, mode: 'vector' } as SearchRequest;
  const where = searchFilters(scope, request, false);
  // The service's choice: an exact scan when the planner estimates at most EXACT_SEARCH_MAX chunks.
  const executor = { query: sql.query.bind(sql), exec: (s: string) => sql.query(s).then(() => undefined) };
  const bound = `SELECT 1 FROM chunks c WHERE ${where.bounds[0]}`;
  const exact = (await plannedRows(executor as never, bound, where.params)) <= EXACT_SEARCH_MAX;
  return {
    sql: vectorSearchSql(where, [exact], dimensions, k, scope.minSimilarity),
    params: (vector) => [...where.params, vector],
    exact,
  };
}
