import type { EventStore } from '../event-store/event-store.js';
import { readMigrations } from '../migrations/migrator.js';
import type { ProjectionStatus } from '../projections/projection-engine.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { Check } from './readiness-check.js';

/** The share of DATABASE_SIZE_LIMIT_BYTES from which readiness warns (the seed's). */
export const SIZE_WARNING_SHARE = 0.8;

/** The database answers (with its round trip) and every migration of this build is applied. */
export async function databaseChecks(sql: SqlClient): Promise<{ database: Check; migrations: Check }> {
  const started = performance.now();
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
  const latencyMs = Math.round(performance.now() - started);
  const applied = rows[0]?.n ?? 0;
  const expected = readMigrations().length;
  return {
    database: { status: 'ok', engine: sql.kind, latencyMs },
    migrations: { status: applied === expected ? 'ok' : 'down', applied, expected },
  };
}

/** The event store answers with its head: the position of the last event in the global order. */
export async function eventStoreCheck(store: EventStore): Promise<Check> {
  const started = performance.now();
  const head = await store.head();
  return { status: 'ok', head: head ?? null, latencyMs: Math.round(performance.now() - started) };
}

/**
 * Every projection's lag and state. An async projection further behind than `maxLag` events, or whose projector
 * last failed, makes readiness degraded: searches answer, but from an older corpus (or not for `minPosition`).
 */
export function projectionsCheck(projections: readonly ProjectionStatus[], maxLag: number): Check {
  const lagging = projections.filter((p) => p.kind === 'async' && p.lag > maxLag);
  const failing = projections.filter((p) => p.lastError !== null);
  return {
    status: lagging.length > 0 || failing.length > 0 ? 'degraded' : 'ok',
    maxLag,
    ...(lagging.length > 0 && {
      reason: lagging.map((p) => `${p.name} is ${p.lag} events behind (more than ${maxLag})`).join('; '),
    }),
    items: projections.map(({ name, version, position, lag, status, projector, lastError }) => ({
      name,
      version,
      position,
      lag,
      status,
      projector,
      lastError,
    })),
  };
}

/**
 * The database's size on disk (pg_database_size: its files, without the server's WAL) against the limit: a
 * warning from SIZE_WARNING_SHARE of it, degraded beyond it. Nothing is refused: the operator decides.
 */
export async function databaseSizeCheck(sql: SqlClient, limitBytes: number): Promise<Check> {
  const { rows } = await sql.query<{ bytes: number }>(
    'SELECT pg_database_size(current_database())::float8 AS bytes',
  );
  const bytes = rows[0]?.bytes ?? 0;
  const share = bytes / limitBytes;
  const percent = Math.round(share * 1000) / 10;
  const figures = { bytes, limitBytes, percent };
  if (share > 1) {
    const reason = `the database is ${percent} % of DATABASE_SIZE_LIMIT_BYTES`;
    return { status: 'degraded', ...figures, reason };
  }
  if (share >= SIZE_WARNING_SHARE) {
    const warning = `the database is ${percent} % of DATABASE_SIZE_LIMIT_BYTES`;
    return { status: 'ok', ...figures, warning };
  }
  return { status: 'ok', ...figures };
}
