import { createHash } from 'node:crypto';

/** HNSW (the default) or IVFFlat, as in the seed; cosine distance either way. */
export type VectorIndexConfig =
  | { kind: 'hnsw'; m: number; efConstruction: number; efSearch: number }
  | { kind: 'ivfflat'; lists: number; probes: number };

export const DEFAULT_VECTOR_INDEX: VectorIndexConfig = {
  kind: 'hnsw',
  m: 16,
  efConstruction: 64,
  efSearch: 100,
};

/** A SQL string literal of a configuration value (space and chunker names are ours, but quote them properly). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The vector column is untyped (`vector`), so each configuration gets a partial expression index over
 * `embedding::vector(<dims>)` on its own current chunks. A query uses it when it orders by the same expression
 * and repeats the predicate with the same literals (see search.ts), which is why they are inlined, not bound.
 */
export function vectorIndexName(kind: VectorIndexConfig['kind'], space: string, chunker: string): string {
  return `chunks_vec_${kind}_${createHash('sha256').update(`${space}|${chunker}`).digest('hex').slice(0, 12)}`;
}

export function vectorIndex(
  index: VectorIndexConfig,
  space: string,
  chunker: string,
  dims: number,
): { name: string; ddl: string } {
  const name = vectorIndexName(index.kind, space, chunker);
  const using =
    index.kind === 'hnsw'
      ? `hnsw ((embedding::vector(${dims})) vector_cosine_ops) WITH (m = ${index.m}, ef_construction = ${index.efConstruction})`
      : `ivfflat ((embedding::vector(${dims})) vector_cosine_ops) WITH (lists = ${index.lists})`;
  const ddl = `CREATE INDEX IF NOT EXISTS ${name} ON chunks USING ${using}
    WHERE is_current AND space = ${literal(space)} AND chunker = ${literal(chunker)}`;
  return { name, ddl };
}

/** Session settings for one search transaction: how hard to look, and keep looking when filters drop rows. */
export function vectorSearchSettings(index: VectorIndexConfig): string[] {
  return index.kind === 'hnsw'
    ? [`SET LOCAL hnsw.ef_search = ${index.efSearch}`, `SET LOCAL hnsw.iterative_scan = relaxed_order`]
    : [`SET LOCAL ivfflat.probes = ${index.probes}`, `SET LOCAL ivfflat.iterative_scan = relaxed_order`];
}
