import { COLUMNS } from './search-rows.js';
import type { SearchFilters } from './search-filters.js';

/**
 * The SQL of a vector search: per part of the filters, its nearest chunks by cosine distance (the query's vector
 * is the parameter after the filters'), exactly or through the vector index as `exact` says; then the nearest
 * of all parts, `score` being the cosine similarity, above the scope's floor if any.
 */
export function vectorSearchSql(
  where: SearchFilters,
  exact: boolean[],
  dims: number,
  limit: number,
  minSimilarity: number | undefined,
): string {
  const distance = `c.embedding::vector(${dims}) <=> $${where.params.length + 1}::vector(${dims})`;
  const floor = similarityFloor(minSimilarity);
  return `WITH ${where.parts.map((part, i) => nearestPart(part, i, exact[i]!, distance, limit)).join(',\n')}
        SELECT *, 1 - distance AS score FROM (${where.parts.map((_, i) => `SELECT * FROM part${i}`).join(' UNION ALL ')}) n
        ${floor} ORDER BY distance, id LIMIT ${limit}`;
}

/**
 * The exact form computes each distance once (OFFSET 0 keeps the subquery whole, so the sort above it cannot
 * be an index scan), sorts ids and distances only, then reads the columns of the nearest. The other form's
 * ORDER BY distance LIMIT is what the vector index serves.
 */
function nearestPart(part: string, i: number, exact: boolean, distance: string, limit: number): string {
  return exact
    ? `part${i} AS MATERIALIZED (
        SELECT ${COLUMNS}, n.distance FROM (
          SELECT id, distance FROM (SELECT c.id, ${distance} AS distance FROM chunks c WHERE ${part} OFFSET 0) d
          ORDER BY distance LIMIT ${limit}
        ) n JOIN chunks c ON c.id = n.id)`
    : `part${i} AS MATERIALIZED (
        SELECT ${COLUMNS}, ${distance} AS distance FROM chunks c WHERE ${part} ORDER BY ${distance} LIMIT ${limit})`;
}

/**
 * The relevance floor filters the nearest, not the scan: inside it, the index would keep walking for k chunks
 * above it.
 */
function similarityFloor(minSimilarity: number | undefined): string {
  return minSimilarity === undefined ? '' : `WHERE distance <= ${1 - minSimilarity}`;
}
