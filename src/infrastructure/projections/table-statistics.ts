import type { SqlExecutor } from '../sql/sql-client.js';

/**
 * The service analyzes the tables it loads, instead of counting on autovacuum: autovacuum may be off, and even on
 * it analyzes a table only once a tenth of it has changed, while a bulk load makes a table from nothing in a few
 * minutes. Until then the planner knows nothing of the rows (a vector search decides between an exact scan and
 * the vector index from its estimate of the rows a filter leaves). The projector asks after each batch and when
 * it has caught up; PostgreSQL's own counters say which tables changed (n_mod_since_analyze).
 */

/**
 * The projector looks (one query over pg_stat_user_tables, ~0.6 ms) once caught up after this many events, and
 * after every full batch (a backlog), not after each upload's single event.
 */
export const ANALYZE_CHECK_EVENTS = 100;
/** While loading: a table never analyzed is analyzed once this many rows of it have changed. */
export const ANALYZE_FIRST_ROWS = 1_000;
/**
 * Caught up: a table is analyzed when more rows than ANALYZE_MIN_ROWS plus this share of it have changed since it
 * last was. Autovacuum's share is a tenth, but its workers run beside the service; here ANALYZE runs in the
 * projector's session (on PGlite, the only one), and a tenth meant ~24 runs per table over a 5,000-document load.
 * Once a table doubles: a few runs per load. The planner scales its row counts to the table's current size
 * itself; what the statistics add is the distribution of values, which a doubling rarely changes.
 */
export const ANALYZE_SHARE = 1;
export const ANALYZE_MIN_ROWS = 500;

/**
 * The tables of the current schema due for ANALYZE: while loading, the ones never analyzed that have changed
 * enough; once caught up, any that changed by more than the minimum plus the share.
 */
export const STALE_TABLES_SQL = `SELECT s.relname AS name FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE s.schemaname = current_schema()
    AND CASE WHEN $1 THEN s.n_mod_since_analyze > $3 + $4 * greatest(c.reltuples, 0)
             ELSE s.last_analyze IS NULL AND s.last_autoanalyze IS NULL AND s.n_mod_since_analyze >= $2 END
  ORDER BY s.relname`;

/** Analyzes the tables due (see STALE_TABLES_SQL); returns their names. Outside any transaction. */
export async function analyzeStaleTables(sql: SqlExecutor, caughtUp: boolean): Promise<string[]> {
  // This session's own counts reach the shared statistics when it is next idle, at most once a second unless
  // forced: the statement below makes it so before the next one reads them.
  await sql.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await sql.query<{ name: string }>(STALE_TABLES_SQL, [
    caughtUp,
    ANALYZE_FIRST_ROWS,
    ANALYZE_MIN_ROWS,
    ANALYZE_SHARE,
  ]);
  for (const { name } of rows) await sql.exec(`ANALYZE "${name.replace(/"/g, '""')}"`);
  return rows.map((r) => r.name);
}
