import { sqlState, type SqlClient, type SqlExecutor } from '../sql/sql-client.js';
import { statementPattern } from './statement-pattern.js';
import type { StatementStats, StatementTimings } from './statement-timings.js';

export type StatementSource = 'pg_stat_statements' | 'service_timing';

export interface SlowStatements {
  source: StatementSource;
  /** Why the source is the one it is (the service's timing: what kept pg_stat_statements out). */
  sourceDetail: string;
  /** Since when the figures add up, when known. */
  since: string | null;
  /** Every pattern with an execution of at least the threshold, the most total time first. */
  statements: StatementStats[];
}

/** At most this many rows of pg_stat_statements are read (the most total time first), before grouping. */
export const PG_STAT_STATEMENTS_ROWS = 500;

const EXTENSION_SQL = `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_stat_statements'`;

/**
 * CREATE EXTENSION needs a superuser, or a trusted extension (pg_stat_statements is not, as shipped) and CREATE
 * on the database: asked first, so that a role that may not is not made to fail.
 */
const MAY_CREATE_SQL = `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
    OR (coalesce((SELECT bool_or(trusted) FROM pg_available_extension_versions WHERE name = 'pg_stat_statements'), false)
        AND has_database_privilege(current_database(), 'CREATE')) AS may`;

function viewSql(schema: string): string {
  const view = `"${schema.replace(/"/g, '""')}".pg_stat_statements`;
  return `SELECT query, calls::float8 AS calls, total_exec_time AS "totalMs", max_exec_time AS "maxMs", rows::float8 AS rows
    FROM ${view} WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND max_exec_time >= $1 AND query <> '<insufficient privilege>'
    ORDER BY total_exec_time DESC LIMIT ${PG_STAT_STATEMENTS_ROWS}`;
}

/** The library is not loaded: the view exists but errors with this SQLSTATE (object_not_in_prerequisite_state). */
const NOT_LOADED = '55000';

/**
 * The slow statements: from the server's pg_stat_statements when it is there and loaded (created here once per
 * process when the role may), else from the service's own timing. The two differ: the server times execution
 * only, for every execution; the service times each statement as it waited for it, and keeps only the slow ones.
 */
export class SlowStatementSource {
  private createAttempted = false;

  constructor(
    private readonly sql: SqlClient,
    private readonly timings: StatementTimings,
  ) {}

  /** SLOW_QUERY_MS: the least execution time of a listed statement (and of a timed one). */
  get thresholdMs(): number {
    return this.timings.thresholdMs;
  }

  async read(): Promise<SlowStatements> {
    if (this.sql.kind === 'pglite')
      return this.own('the embedded database (PGlite) has no pg_stat_statements');
    const schema = await this.extensionSchema();
    if (typeof schema !== 'string') return this.own(schema.why);
    try {
      const { rows } = await this.sql.query<Row>(viewSql(schema), [this.timings.thresholdMs]);
      return {
        source: 'pg_stat_statements',
        sourceDetail: `the server's pg_stat_statements (extension in schema ${schema})`,
        since: await statsReset(this.sql, schema),
        statements: grouped(rows),
      };
    } catch (error) {
      if (sqlState(error) === NOT_LOADED)
        return this.own('pg_stat_statements is installed but not loaded (shared_preload_libraries)');
      return this.own(`pg_stat_statements could not be read: ${(error as Error).message}`);
    }
  }

  /** The extension's schema, created first when it is missing and the role may; else why it is not there. */
  private async extensionSchema(): Promise<string | { why: string }> {
    const found = await this.sql.query<{ schema: string }>(EXTENSION_SQL);
    if (found.rows[0]) return found.rows[0].schema;
    const { rows } = await this.sql.query<{ available: boolean; may: boolean }>(MAY_CREATE_SQL);
    if (!rows[0]?.available) return { why: 'pg_stat_statements is not available on this server' };
    if (!rows[0].may) return { why: 'pg_stat_statements is not installed and this role may not create it' };
    if (this.createAttempted) return { why: 'pg_stat_statements could not be created' };
    this.createAttempted = true;
    try {
      await this.sql.exec('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    } catch (error) {
      return { why: `pg_stat_statements could not be created: ${(error as Error).message}` };
    }
    return this.extensionSchema();
  }

  private own(why: string): SlowStatements {
    return {
      source: 'service_timing',
      sourceDetail: `this process's timing of statements over SLOW_QUERY_MS: ${why}`,
      since: this.timings.since.toISOString(),
      statements: this.timings.all(),
    };
  }
}

interface Row {
  query: string;
  calls: number;
  totalMs: number;
  maxMs: number;
  rows: number;
}

/** pg_stat_statements keeps a row per user and nesting level too: one per pattern here, as in the service's own. */
function grouped(rows: Row[]): StatementStats[] {
  const byPattern = new Map<string, Row>();
  for (const row of rows) {
    const pattern = statementPattern(row.query);
    const seen = byPattern.get(pattern);
    if (!seen) byPattern.set(pattern, { ...row, query: pattern });
    else
      Object.assign(seen, {
        calls: seen.calls + row.calls,
        totalMs: seen.totalMs + row.totalMs,
        maxMs: Math.max(seen.maxMs, row.maxMs),
        rows: seen.rows + row.rows,
      });
  }
  return [...byPattern.values()]
    .filter((r) => r.calls > 0)
    .map((r) => ({
      ...{ pattern: r.query, calls: r.calls, totalMs: r.totalMs, meanMs: r.totalMs / r.calls },
      ...{ maxMs: r.maxMs, rows: r.rows, meanRows: r.rows / r.calls },
    }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** pg_stat_statements_info (PostgreSQL 14 and later) says when the figures were last reset. */
async function statsReset(sql: SqlExecutor, schema: string): Promise<string | null> {
  try {
    const { rows } = await sql.query<{ at: string | null }>(
      `SELECT to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
       FROM "${schema.replace(/"/g, '""')}".pg_stat_statements_info`,
    );
    return rows[0]?.at ?? null;
  } catch {
    return null;
  }
}
