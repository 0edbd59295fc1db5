import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

/** A vector index as it is now: its identity (oid), size and validity. */
export interface IndexNow {
  name: string;
  oid: number;
  sizeBytes: number;
  valid: boolean;
}

/** A configuration's chunks now: the current ones (what the current index covers) and the highest id. */
export interface ChunksNow {
  liveRows: number;
  maxChunkId: number;
}

/** The index as last measured by maintenance. */
export interface Baseline extends ChunksNow {
  oid: number;
  sizeBytes: number;
}

export async function indexNow(on: SqlExecutor, name: string): Promise<IndexNow | undefined> {
  const { rows } = await on.query<{ oid: string; size: string; valid: boolean }>(
    `SELECT c.oid::bigint::text AS oid, pg_relation_size(c.oid)::text AS size, i.indisvalid AS valid
     FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
     WHERE c.relname = $1 AND c.relkind = 'i' AND pg_table_is_visible(c.oid)`,
    [name],
  );
  const row = rows[0];
  return row && { name, oid: Number(row.oid), sizeBytes: Number(row.size), valid: row.valid };
}

export async function chunksNow(on: SqlExecutor, [space, chunker]: [string, string]): Promise<ChunksNow> {
  const { rows } = await on.query<{ live: string; max: string }>(
    `SELECT count(*) FILTER (WHERE is_current)::text AS live, coalesce(max(id), 0)::text AS max
     FROM chunks WHERE space = $1 AND chunker = $2`,
    [space, chunker],
  );
  return { liveRows: Number(rows[0]!.live), maxChunkId: Number(rows[0]!.max) };
}

/**
 * Entries of the current chunks' index that point to rows no longer current, since the baseline: rows that were
 * current then (ids up to its highest) and are not now, and rows added since that are already closed. A chunk is
 * current only from its insert (closing, retiring and erasing end it; nothing makes it current again), so both
 * are exact, but for rows added and deleted (erased) between two runs, which leave no trace to count.
 */
export async function deadSince(
  on: SqlExecutor,
  [space, chunker]: [string, string],
  base: Baseline,
): Promise<number> {
  const { rows } = await on.query<{ survivors: string; closed: string }>(
    `SELECT count(*) FILTER (WHERE is_current AND id <= $3)::text AS survivors,
       count(*) FILTER (WHERE NOT is_current AND id > $3)::text AS closed
     FROM chunks WHERE space = $1 AND chunker = $2`,
    [space, chunker, base.maxChunkId],
  );
  return Math.max(0, base.liveRows - Number(rows[0]!.survivors)) + Number(rows[0]!.closed);
}

export const indexBaselines = {
  async read(on: SqlExecutor, name: string): Promise<Baseline | undefined> {
    const { rows } = await on.query<{ oid: string; live: string; max: string; bytes: string }>(
      `SELECT index_oid::text AS oid, live_rows::text AS live, max_chunk_id::text AS max, size_bytes::text AS bytes
       FROM maintenance_index_baselines WHERE index_name = $1`,
      [name],
    );
    const row = rows[0];
    return (
      row && {
        oid: Number(row.oid),
        liveRows: Number(row.live),
        maxChunkId: Number(row.max),
        sizeBytes: Number(row.bytes),
      }
    );
  },

  async record(on: SqlExecutor, index: IndexNow, chunks: ChunksNow, rebuilt: boolean): Promise<void> {
    await on.query(
      `INSERT INTO maintenance_index_baselines (index_name, index_oid, live_rows, max_chunk_id, size_bytes, rebuilt)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (index_name) DO UPDATE SET index_oid = EXCLUDED.index_oid, live_rows = EXCLUDED.live_rows,
         max_chunk_id = EXCLUDED.max_chunk_id, size_bytes = EXCLUDED.size_bytes, rebuilt = EXCLUDED.rebuilt,
         measured_at = now()`,
      [index.name, index.oid, chunks.liveRows, chunks.maxChunkId, index.sizeBytes, rebuilt],
    );
  },
};
