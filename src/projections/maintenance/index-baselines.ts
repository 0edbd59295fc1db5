import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

/** A vector index as it is now: its identity (oid), size, validity and the rows its predicate covers. */
export interface IndexNow {
  name: string;
  oid: number;
  sizeBytes: number;
  valid: boolean;
  liveRows: number;
}

export interface Baseline {
  oid: number;
  liveRows: number;
  sizeBytes: number;
  rebuilt: boolean;
}

/**
 * The index named `name` on chunks, with the count of the rows it covers: the configuration's current chunks,
 * or its past ones for the `_past` index (vector-index.ts).
 */
export async function indexNow(
  on: SqlExecutor,
  name: string,
  [space, chunker]: [string, string],
): Promise<IndexNow | undefined> {
  const { rows } = await on.query<{ oid: string; size: string; valid: boolean }>(
    `SELECT c.oid::bigint::text AS oid, pg_relation_size(c.oid)::text AS size, i.indisvalid AS valid
     FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
     WHERE c.relname = $1 AND c.relkind = 'i' AND pg_table_is_visible(c.oid)`,
    [name],
  );
  const row = rows[0];
  if (!row) return undefined;
  const past = name.endsWith('_past');
  const { rows: live } = await on.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM chunks WHERE ${past ? 'NOT ' : ''}is_current AND space = $1 AND chunker = $2`,
    [space, chunker],
  );
  return {
    name,
    oid: Number(row.oid),
    sizeBytes: Number(row.size),
    valid: row.valid,
    liveRows: Number(live[0]!.n),
  };
}

export const indexBaselines = {
  async read(on: SqlExecutor, name: string): Promise<Baseline | undefined> {
    const { rows } = await on.query<{ oid: string; rows: string; bytes: string; rebuilt: boolean }>(
      `SELECT index_oid::text AS oid, live_rows::text AS rows, size_bytes::text AS bytes, rebuilt
       FROM maintenance_index_baselines WHERE index_name = $1`,
      [name],
    );
    const row = rows[0];
    return (
      row && {
        oid: Number(row.oid),
        liveRows: Number(row.rows),
        sizeBytes: Number(row.bytes),
        rebuilt: row.rebuilt,
      }
    );
  },

  async record(on: SqlExecutor, index: IndexNow, rebuilt: boolean): Promise<void> {
    await on.query(
      `INSERT INTO maintenance_index_baselines (index_name, index_oid, live_rows, size_bytes, rebuilt)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (index_name) DO UPDATE SET index_oid = EXCLUDED.index_oid, live_rows = EXCLUDED.live_rows,
         size_bytes = EXCLUDED.size_bytes, rebuilt = EXCLUDED.rebuilt, measured_at = now()`,
      [index.name, index.oid, index.liveRows, index.sizeBytes, rebuilt],
    );
  },
};
