import { Controller, Get, Inject, Query as QueryParams } from '@nestjs/common';
import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RequireRole } from '../auth/auth.guard.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { parseWith } from '../http/validation.js';
import { ProjectionEngine } from '../projections/projection-engine.js';
import { SQL_CLIENT, type SqlClient } from '../sql/sql-client.js';
import { performanceQuerySchema, type PerformanceQuery } from './performance-routes.js';
import {
  PERFORMANCE_ADVISORS,
  type AdviceContext,
  type PerformanceAdvisor,
  type Recommendation,
} from './recommendation.js';
import { SlowStatementSource, type SlowStatements } from './slow-statements.js';
import { readTableStats } from './table-stats.js';

export interface PerformanceReport extends Omit<SlowStatements, 'statements'> {
  generatedAt: string;
  engine: SqlClient['kind'];
  slowQueryMs: number;
  statements: SlowStatements['statements'];
  recommendations: Recommendation[];
  checks: Record<string, Record<string, unknown>>;
}

export class GetPerformanceReportQuery extends Query<PerformanceReport> {
  constructor(readonly options: PerformanceQuery) {
    super();
  }
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** The slow statements, then each advisor's recommendations on them and on the tables' statistics. */
@QueryHandler(GetPerformanceReportQuery)
export class GetPerformanceReportHandler implements IQueryHandler<
  GetPerformanceReportQuery,
  PerformanceReport
> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(SlowStatementSource) private readonly source: SlowStatementSource,
    @Inject(PERFORMANCE_ADVISORS) private readonly advisors: PerformanceAdvisor[],
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ options }: GetPerformanceReportQuery): Promise<PerformanceReport> {
    const slow = await this.source.read();
    const context: AdviceContext = {
      sql: this.sql,
      statements: slow.statements,
      tables: await readTableStats(this.sql),
      projections: await this.engine.status(),
      measure: options.measureRecall,
    };
    const recommendations: Recommendation[] = [];
    const checks: Record<string, Record<string, unknown>> = {};
    for (const advisor of this.advisors) {
      const advice = await adviseSafely(advisor, context);
      recommendations.push(...advice.recommendations);
      if (advice.summary) checks[advisor.name] = advice.summary;
    }
    recommendations.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
    return {
      ...{ generatedAt: this.clock.now().toISOString(), engine: this.sql.kind },
      ...{ slowQueryMs: this.source.thresholdMs, ...slow },
      ...{ statements: slow.statements.slice(0, options.limit), recommendations, checks },
    };
  }
}

/** One advisor's failure (a lock timeout, a catalog it may not read) is a line of the report, not a 500. */
async function adviseSafely(advisor: PerformanceAdvisor, context: AdviceContext) {
  try {
    return await advisor.advise(context);
  } catch (error) {
    const failed: Recommendation = {
      code: 'ADVISOR_FAILED',
      severity: 'info',
      message: `the ${advisor.name} part of the report could not be made: ${(error as Error).message}`,
      evidence: { advisor: advisor.name },
    };
    return { recommendations: [failed] };
  }
}

/** GET /admin/performance: the slow-query report (admin). */
@Controller('admin/performance')
@RequireRole('admin')
export class AdminPerformanceController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  report(@QueryParams() query: unknown): Promise<PerformanceReport> {
    return this.queries.execute(
      new GetPerformanceReportQuery(parseWith(performanceQuerySchema, query, 'query')),
    );
  }
}
