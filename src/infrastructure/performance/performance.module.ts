import { Module, type DynamicModule } from '@nestjs/common';
import { SQL_CLIENT, type SqlClient } from '../sql/sql-client.js';
import { AdminPerformanceController, GetPerformanceReportHandler } from './performance.query.js';
import { PERFORMANCE_ADVISORS, type PerformanceAdvisor } from './recommendation.js';
import { SlowStatementSource } from './slow-statements.js';
import { tableAdvisor } from './table-advice.js';
import type { StatementTimings } from './statement-timings.js';

/**
 * GET /admin/performance over the service's own timings (kept by the TimedSqlClient the app module puts in
 * front of the database) and the advisors: the generic table advice first, then the read models' own.
 */
@Module({})
export class PerformanceModule {
  static forRoot(timings: StatementTimings, advisors: PerformanceAdvisor[] = []): DynamicModule {
    return {
      module: PerformanceModule,
      controllers: [AdminPerformanceController],
      providers: [
        { provide: PERFORMANCE_ADVISORS, useValue: [tableAdvisor, ...advisors] },
        {
          provide: SlowStatementSource,
          inject: [SQL_CLIENT],
          useFactory: (sql: SqlClient) => new SlowStatementSource(sql, timings),
        },
        GetPerformanceReportHandler,
      ],
    };
  }
}
