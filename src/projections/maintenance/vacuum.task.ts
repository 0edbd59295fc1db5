import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { MaintenanceContext } from './maintenance-context.js';
import { formatBytes, type TaskOutcome } from './maintenance-report.js';

/** The tables reads and searches go through, and the stores the other tasks delete from. */
export const READ_TABLES = [
  'documents',
  'document_versions',
  'chunks',
  'chunk_lexemes',
  'chunk_stats',
  'embedding_cache',
  'rag_query_cache',
  'files',
  'document_keys',
  'url_sources',
] as const;

/**
 * The catalogs that the consistency check's temporary tables (one set per batch of documents) leave dead rows
 * in. A server's autovacuum cleans them; the embedded database runs no autovacuum, so they are vacuumed here.
 */
const EMBEDDED_CATALOGS = [
  'pg_catalog.pg_class',
  'pg_catalog.pg_attribute',
  'pg_catalog.pg_type',
  'pg_catalog.pg_depend',
];

interface TableFigures {
  table: string;
  bytesBefore: number;
  bytesAfter: number;
  /** The statistics' count of dead row versions before (PostgreSQL updates it lazily: approximate). */
  deadRowsBefore: number;
  durationMs: number;
}

/**
 * `VACUUM (ANALYZE)` of each table, one statement each (VACUUM cannot run in a transaction: on the session that
 * holds the maintenance lock, outside any). Dead row versions become reusable space and the planner's
 * statistics are brought up to date; the files shrink only when their last pages empty (VACUUM FULL, which
 * locks the table, is not run).
 */
export async function vacuumReadTables(ctx: MaintenanceContext): Promise<TaskOutcome> {
  const tables: TableFigures[] = [];
  const catalogs = ctx.sql.kind === 'pglite' ? EMBEDDED_CATALOGS : [];
  for (const table of [...READ_TABLES, ...catalogs]) {
    const started = performance.now();
    const before = await figures(ctx.session, table);
    await ctx.session.exec(`VACUUM (ANALYZE) ${table}`);
    const after = await figures(ctx.session, table);
    tables.push({
      table,
      bytesBefore: before.bytes,
      bytesAfter: after.bytes,
      deadRowsBefore: before.dead,
      durationMs: Math.round(performance.now() - started),
    });
  }
  const before = tables.reduce((n, t) => n + t.bytesBefore, 0);
  const after = tables.reduce((n, t) => n + t.bytesAfter, 0);
  return {
    status: 'succeeded',
    summary: `${tables.length} tables vacuumed and analyzed: ${formatBytes(before)} before, ${formatBytes(after)} after`,
    rows: 0,
    bytes: Math.max(0, before - after),
    details: { tables },
  };
}

async function figures(on: SqlExecutor, table: string): Promise<{ bytes: number; dead: number }> {
  const { rows } = await on.query<{ bytes: string; dead: string | null }>(
    `SELECT pg_total_relation_size($1::regclass)::text AS bytes,
       (SELECT n_dead_tup::text FROM pg_stat_all_tables WHERE relid = $1::regclass) AS dead`,
    [table],
  );
  return { bytes: Number(rows[0]!.bytes), dead: Number(rows[0]!.dead ?? 0) };
}
