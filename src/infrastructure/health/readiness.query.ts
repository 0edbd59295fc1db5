import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.js';
import { ProjectionEngine, type ProjectionStatus } from '../projections/projection-engine.js';
import { SQL_CLIENT, type SqlClient } from '../sql/sql-client.js';
import { DatabaseSizeLimit, READINESS_CHECKS, type Check, type ReadinessCheck } from './readiness-check.js';
import { databaseChecks, databaseSizeCheck, eventStoreCheck, projectionsCheck } from './readiness-checks.js';

export type { Check } from './readiness-check.js';

/** API.md: status is ok or degraded; a check that is down makes the whole answer a 503 (see the controller). */
export interface Readiness {
  status: 'ok' | 'degraded';
  ready: boolean;
  checks: Record<string, Check>;
}

export class GetReadinessQuery extends Query<Readiness> {}

/**
 * Ready = the database answers, is fully migrated and its event store answers. Everything else (projections
 * lagging or failing, the database's size, the search indexes, the features' checks) makes it degraded at worst:
 * the service still answers, and taking it out of a load balancer would not help.
 */
@QueryHandler(GetReadinessQuery)
export class GetReadinessHandler implements IQueryHandler<GetReadinessQuery, Readiness> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DatabaseSizeLimit) private readonly sizeLimit: DatabaseSizeLimit,
    @Inject(READINESS_CHECKS) private readonly features: readonly ReadinessCheck[] = [],
  ) {}

  async execute(): Promise<Readiness> {
    const checks: Record<string, Check> = {};
    try {
      Object.assign(checks, await databaseChecks(this.sql));
    } catch (error) {
      checks.database = { status: 'down', error: (error as Error).message };
    }
    if (checks.migrations?.status === 'ok') await this.rest(checks);
    const statuses = Object.values(checks).map((c) => c.status);
    const ready = !statuses.includes('down');
    return { status: ready && !statuses.includes('degraded') ? 'ok' : 'degraded', ready, checks };
  }

  /** The checks of a migrated database, each on its own: one failing query does not hide the others. */
  private async rest(checks: Record<string, Check>): Promise<void> {
    checks.eventStore = await attempt('down', () => eventStoreCheck(this.store));
    let projections: ProjectionStatus[] = [];
    checks.projections = await attempt('degraded', async () => {
      projections = await this.engine.status();
      return projectionsCheck(projections, this.config.HEALTH_MAX_PROJECTOR_LAG);
    });
    checks.databaseSize = await attempt('degraded', () => databaseSizeCheck(this.sql, this.sizeLimit.bytes));
    for (const feature of this.features) {
      checks[feature.name] = await attempt('degraded', () => feature.check(this.sql, { projections }));
    }
  }
}

/** A check that throws is reported with its error, as `down` or `degraded` by what it checks. */
async function attempt(onError: 'down' | 'degraded', check: () => Promise<Check> | Check): Promise<Check> {
  try {
    return await check();
  } catch (error) {
    return { status: onError, error: (error as Error).message };
  }
}
