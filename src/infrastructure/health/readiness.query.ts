import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { readMigrations } from '../migrations/migrator.js';
import { ProjectionEngine } from '../projections/projection-engine.js';
import { SQL_CLIENT, type SqlClient } from '../sql/sql-client.js';

export interface Check {
  status: 'ok' | 'degraded' | 'down';
  [detail: string]: unknown;
}

/** API.md: status is ok or degraded; a check that is down makes the whole answer a 503 (see the controller). */
export interface Readiness {
  status: 'ok' | 'degraded';
  ready: boolean;
  checks: Record<string, Check>;
}

export class GetReadinessQuery extends Query<Readiness> {}

/** Ready = the database answers and is fully migrated; projections that lag or fail make it degraded, not down. */
@QueryHandler(GetReadinessQuery)
export class GetReadinessHandler implements IQueryHandler<GetReadinessQuery, Readiness> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
  ) {}

  async execute(): Promise<Readiness> {
    const checks: Record<string, Check> = {};
    const started = performance.now();
    try {
      const { rows } = await this.sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM schema_migrations',
      );
      checks.database = {
        status: 'ok',
        engine: this.sql.kind,
        latencyMs: Math.round(performance.now() - started),
      };
      const expected = readMigrations().length;
      checks.migrations = {
        status: rows[0]?.n === expected ? 'ok' : 'down',
        applied: rows[0]?.n ?? 0,
        expected,
      };
      const projections = await this.engine.status();
      const failing = projections.filter((p) => p.lastError !== null);
      checks.projections = {
        status: failing.length > 0 ? 'degraded' : 'ok',
        items: projections.map(({ name, version, lag, status, projector, lastError }) => ({
          name,
          version,
          lag,
          status,
          projector,
          lastError,
        })),
      };
    } catch (error) {
      checks.database = { status: 'down', error: (error as Error).message };
    }
    const statuses = Object.values(checks).map((c) => c.status);
    const ready = !statuses.includes('down');
    return { status: ready && !statuses.includes('degraded') ? 'ok' : 'degraded', ready, checks };
  }
}
