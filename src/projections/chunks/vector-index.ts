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

/** Which chunks an index covers: the current corpus, or the closed versions that only as-of searches read. */
export type IndexedChunks = 'current' | 'past';

/**
 * The vector column is untyped (`vector`), so each configuration gets partial expression indexes over
 * `embedding::vector(<dims>)`: one on its current chunks (what search reads) and one on its past chunks (closed
 * versions, read by as-of searches; see search.ts). A query uses one when it orders by the same expression and
 * repeats the predicate with the same literals, which is why they are inlined, not bound.
 */
export function vectorIndexName(
  kind: VectorIndexConfig['kind'],
  space: string,
  chunker: string,
  chunks: IndexedChunks = 'current',
): string {
  const hash = createHash('sha256').update(`${space}|${chunker}`).digest('hex').slice(0, 12);
  return `chunks_vec_${kind}_${hash}${chunks === 'past' ? '_past' : ''}`;
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
    const name = vectorIndexName(index.kind, space, chunker, chunks);
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
