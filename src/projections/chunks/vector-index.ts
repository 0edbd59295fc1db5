import { createHash } from 'node:crypto';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

/** HNSW (the default) or IVFFlat, as in the seed; cosine distance either way. */
export type VectorIndexConfig =
  | { kind: 'hnsw'; m: number; efConstruction: number; efSearch: number }
  | { kind: 'ivfflat'; lists: number; probes: number };

/**
 * m 24 / ef_construction 160 / ef_search 500: recall@10 against exact search ≥ 0.95 at 100,000 chunks of the local
 * embedder's vectors (m 16 / 64 / 100, pgvector's defaults, gave 0.79; see BENCHMARKS.md), for a build ~2.5
 * times as long.
 */
export const DEFAULT_VECTOR_INDEX: VectorIndexConfig = {
  kind: 'hnsw',
  m: 24,
  efConstruction: 160,
  efSearch: 500,
};

/** A SQL string literal of a configuration value (space and chunker names are ours, but quote them properly). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Which chunks an index covers: the current corpus, or the closed versions that only as-of searches read. */
export type IndexedChunks = 'current' | 'past';

/**
 * The vector column is untyped (`vector`), so each configuration gets partial expression indexes over
 * `embedding::vector(<dims>)`: one on its current chunks (what search reads) and one on its past chunks (closed
 * versions, read by as-of searches; see search.ts). A query uses one when it orders by the same expression and
 * repeats the predicate with the same literals, which is why they are inlined, not bound. The name carries the
 * configuration (space and chunker) and the build parameters, so that changed parameters build a new index
 * (and the old one is dropped, see staleVectorIndexes) instead of keeping the old graph under the same name.
 */
export function vectorIndexName(
  index: VectorIndexConfig,
  space: string,
  chunker: string,
  chunks: IndexedChunks = 'current',
): string {
  const built =
    index.kind === 'hnsw' ? `m=${index.m},ef_construction=${index.efConstruction}` : `lists=${index.lists}`;
  const params = createHash('sha256').update(built).digest('hex').slice(0, 8);
  return `chunks_vec_${index.kind}_${configurationHash(space, chunker)}_${params}${chunks === 'past' ? '_past' : ''}`;
}

/** Whether `name` is a vector index of this configuration (current or past chunks, any kind or parameters). */
export function isVectorIndexOf(name: string, space: string, chunker: string): boolean {
  return new RegExp(`^chunks_vec_(hnsw|ivfflat)_${configurationHash(space, chunker)}(_|$)`).test(name);
}

function configurationHash(space: string, chunker: string): string {
  return createHash('sha256').update(`${space}|${chunker}`).digest('hex').slice(0, 12);
}

/** The vector indexes of a configuration that exist, of any kind and parameters, except `keep`. */
export async function staleVectorIndexes(
  sql: SqlExecutor,
  space: string,
  chunker: string,
  keep: readonly string[] = [],
): Promise<string[]> {
  const { rows } = await sql.query<{ name: string }>(
    `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'chunks'
       AND indexname ~ ('^chunks_vec_(hnsw|ivfflat)_' || $1 || '(_|$)') AND NOT indexname = ANY ($2::text[])`,
    [configurationHash(space, chunker), [...keep]],
  );
  return rows.map((r) => r.name);
}

export function vectorIndexes(
  index: VectorIndexConfig,
  space: string,
  chunker: string,
  dims: number,
): Array<{ name: string; ddl: string }> {
  const using =
    index.kind === 'hnsw'
      ? `hnsw ((embedding::vector(${dims})) vector_cosine_ops) WITH (m = ${index.m}, ef_construction = ${index.efConstruction})`
      : `ivfflat ((embedding::vector(${dims})) vector_cosine_ops) WITH (lists = ${index.lists})`;
  return (['current', 'past'] as const).map((chunks) => {
    const name = vectorIndexName(index, space, chunker, chunks);
    const ddl = `CREATE INDEX IF NOT EXISTS ${name} ON chunks USING ${using}
      WHERE ${chunks === 'past' ? 'NOT ' : ''}is_current AND space = ${literal(space)} AND chunker = ${literal(chunker)}`;
    return { name, ddl };
  });
}

/** Session settings for one search transaction: how hard to look, and keep looking when filters drop rows. */
export function vectorSearchSettings(index: VectorIndexConfig): string[] {
  return index.kind === 'hnsw'
    ? [`SET LOCAL hnsw.ef_search = ${index.efSearch}`, `SET LOCAL hnsw.iterative_scan = relaxed_order`]
    : [`SET LOCAL ivfflat.probes = ${index.probes}`, `SET LOCAL ivfflat.iterative_scan = relaxed_order`];
}
