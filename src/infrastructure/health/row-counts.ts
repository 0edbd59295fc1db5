import type { SqlExecutor } from '../sql/sql-client.js';

/**
 * Up to this many rows (by the planner's estimate) a table is counted exactly: a scan that small is cheap even
 * for rows as wide as chunks with their vectors. Beyond, counts are the planner's estimates.
 */
export const EXACT_COUNT_MAX_ROWS = 10_000;

/** Table and column names are the service's own, never a client's: checked anyway, as they are inlined. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return name;
}

/**
 * The planner's row estimate (pg_class.reltuples, kept by VACUUM, ANALYZE and index builds), or undefined when
 * the table has never been measured: such a table has not had enough changes for the service to analyze it
 * (table-statistics.ts), so it is small and counting it is cheap.
 */
export async function estimatedRows(sql: SqlExecutor, table: string): Promise<number | undefined> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT reltuples::float8 AS n FROM pg_class WHERE oid = to_regclass($1)`,
    [identifier(table)],
  );
  const n = rows[0]?.n;
  return n === undefined || n < 0 ? undefined : Math.round(n);
}

export interface RowCount {
  total: number;
  /** True when `total` is the planner's estimate rather than a count. */
  estimated: boolean;
}

/** The rows of a table: counted when small, estimated when large. */
export async function rowCount(sql: SqlExecutor, table: string): Promise<RowCount> {
  const estimate = await estimatedRows(sql, table);
  if (estimate !== undefined && estimate > EXACT_COUNT_MAX_ROWS) return { total: estimate, estimated: true };
  const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${identifier(table)}`);
  return { total: rows[0]?.n ?? 0, estimated: false };
}

export interface GroupCounts extends RowCount {
  /** Rows per value of the column; estimated ones come from the column's most common values (pg_stats). */
  by: Record<string, number>;
}

/**
 * Rows per value of a low-cardinality column (a status): a GROUP BY when the table is small, else the planner's
 * estimate times each value's frequency among the column's most common values, as ANALYZE last saw them.
 */
export async function countsBy(sql: SqlExecutor, table: string, column: string): Promise<GroupCounts> {
  const estimate = await estimatedRows(sql, table);
  if (estimate === undefined || estimate <= EXACT_COUNT_MAX_ROWS) {
    const { rows } = await sql.query<{ value: string; n: number }>(
      `SELECT ${identifier(column)}::text AS value, count(*)::float8 AS n FROM ${identifier(table)} GROUP BY 1`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.value, r.n]));
    return { total: rows.reduce((sum, r) => sum + r.n, 0), estimated: false, by };
  }
  const { rows } = await sql.query<{ value: string; freq: number }>(
    `SELECT v.value, v.freq::float8 AS freq
     FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS v(value, freq)
     WHERE s.schemaname = current_schema() AND s.tablename = $1 AND s.attname = $2`,
    [identifier(table), identifier(column)],
  );
  const by = Object.fromEntries(rows.map((r) => [r.value, Math.round(r.freq * estimate)]));
  return { total: estimate, estimated: true, by };
}
