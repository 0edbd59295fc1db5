import type { SqlExecutor } from '../sql/sql-client.js';
import type { TableStats } from './recommendation.js';

const TABLES_SQL = `SELECT s.relname AS "table", s.seq_scan::float8 AS "seqScans",
    coalesce(s.idx_scan, 0)::float8 AS "idxScans", s.seq_tup_read::float8 AS "seqRowsRead",
    s.n_live_tup::float8 AS "liveRows", pg_table_size(s.relid)::float8 AS "sizeBytes"
  FROM pg_stat_user_tables s WHERE s.schemaname = current_schema() ORDER BY s.relname`;

/**
 * The tables of the current schema with their scan counts. A session's own counts reach the shared statistics
 * when it is next idle, at most once a second unless forced: forced here, which matters for the embedded
 * database's one session. On a server the pool's other sessions publish theirs when next idle, or after up to
 * ten seconds when they published less than a second before (PostgreSQL's PGSTAT_IDLE_INTERVAL): advice reads
 * counts that may be that much behind.
 */
export async function readTableStats(sql: SqlExecutor): Promise<TableStats[]> {
  await sql.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  return (await sql.query<TableStats>(TABLES_SQL)).rows;
}

/** For each table of the current schema: its columns, and the columns that lead one of its indexes. */
export interface TableColumns {
  columns: Set<string>;
  leadingIndexed: Set<string>;
}

const COLUMNS_SQL = `SELECT c.relname AS "table", a.attname AS "column",
    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum AND i.indisvalid)
      AS indexed
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
    AND a.attnum > 0 AND NOT a.attisdropped AND c.relname = ANY ($1::text[])`;

export async function readTableColumns(
  sql: SqlExecutor,
  tables: readonly string[],
): Promise<Map<string, TableColumns>> {
  const byTable = new Map<string, TableColumns>();
  if (tables.length === 0) return byTable;
  const { rows } = await sql.query<{ table: string; column: string; indexed: boolean }>(COLUMNS_SQL, [
    [...tables],
  ]);
  for (const { table, column, indexed } of rows) {
    const entry = byTable.get(table) ?? { columns: new Set(), leadingIndexed: new Set() };
    entry.columns.add(column);
    if (indexed) entry.leadingIndexed.add(column);
    byTable.set(table, entry);
  }
  return byTable;
}
