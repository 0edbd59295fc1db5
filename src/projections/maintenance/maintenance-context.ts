import type { Logger } from '@nestjs/common';
import type { AppConfig } from '../../infrastructure/config/config.js';
import type { Embedder } from '../../infrastructure/embeddings/embedder.js';
import type { EventRegistry } from '../../infrastructure/event-store/event-registry.js';
import type { SqlClient, SqlExecutor, SqlSession } from '../../infrastructure/sql/sql-client.js';
import type { ChunksProjection } from '../chunks/chunks.projection.js';

/** The chunks configuration this process projects (its own, not a blue/green companion) and its embedder. */
export interface MaintenanceChunks {
  projection: ChunksProjection;
  embedder: Embedder;
}

export const MAINTENANCE_CHUNKS = Symbol('MAINTENANCE_CHUNKS');

/** What the tasks of one run share. */
export interface MaintenanceContext {
  /** The pool: transactions and queries. */
  sql: SqlClient;
  /** The session that holds the maintenance lock: statements that must run outside a transaction run here. */
  session: SqlSession;
  config: AppConfig;
  registry: EventRegistry;
  chunks: MaintenanceChunks;
  logger: Logger;
  /** The database's time at the start of the run: a file stored since then is never an orphan of this run. */
  startedAt: string;
  /**
   * Every file hash a version of a document that is not erased refers to, read from the events by the
   * consistency check; left undefined when the check did not read every document.
   */
  fileRefs?: Set<string>;
}

/** Rows removed and the bytes they took. */
export interface Removed {
  rows: number;
  bytes: number;
}

export const NONE: Removed = { rows: 0, bytes: 0 };

export const plus = (a: Removed, b: Removed): Removed => ({
  rows: a.rows + b.rows,
  bytes: a.bytes + b.bytes,
});

/**
 * DELETE FROM `table` (aliased `t`) WHERE `where`, counting the rows and their size (`size`, an expression of `t`:
 * by default the row's own size as PostgreSQL stores it).
 */
export async function deleteCounted(
  on: SqlExecutor,
  table: string,
  where: string,
  params: readonly unknown[],
  size = 'pg_column_size(t)',
): Promise<Removed> {
  const { rows } = await on.query<{ n: number; bytes: string }>(
    `WITH gone AS (DELETE FROM ${table} t WHERE ${where} RETURNING ${size} AS size)
     SELECT count(*)::int AS n, coalesce(sum(size), 0)::text AS bytes FROM gone`,
    params,
  );
  return { rows: rows[0]!.n, bytes: Number(rows[0]!.bytes) };
}
