import { Controller, Get, HttpCode, Inject, Post, Query as QueryParams } from '@nestjs/common';
import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { z } from 'zod';
import { RequireRole } from '../../infrastructure/auth/auth.guard.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import type { MaintenanceReport } from './maintenance-report.js';
import { MaintenanceRunner } from './maintenance-runner.js';
import { maintenanceRuns } from './maintenance-runs.js';

export const runsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('how many runs, newest first'),
});

export class ListMaintenanceRunsQuery extends Query<{ runs: MaintenanceReport[] }> {
  constructor(readonly limit: number) {
    super();
  }
}

@QueryHandler(ListMaintenanceRunsQuery)
export class ListMaintenanceRunsHandler implements IQueryHandler<ListMaintenanceRunsQuery> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute({ limit }: ListMaintenanceRunsQuery): Promise<{ runs: MaintenanceReport[] }> {
    return { runs: await maintenanceRuns.list(this.sql, limit) };
  }
}

/**
 * POST /admin/maintenance: a run now, answered with its report when it ends (409 MAINTENANCE_RUNNING while
 * another run holds the lock). GET /admin/maintenance/runs: the kept reports, newest first. Admin only.
 */
@Controller('admin/maintenance')
@RequireRole('admin')
export class MaintenanceController {
  constructor(
    @Inject(MaintenanceRunner) private readonly runner: MaintenanceRunner,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(200)
  run(): Promise<MaintenanceReport> {
    return this.runner.run('api');
  }

  @Get('runs')
  runs(@QueryParams() query: unknown): Promise<{ runs: MaintenanceReport[] }> {
    const { limit } = parseWith(runsQuerySchema, query, 'query');
    return this.queries.execute(new ListMaintenanceRunsQuery(limit));
  }
}
