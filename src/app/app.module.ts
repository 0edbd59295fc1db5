import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ScheduleModule } from '@nestjs/schedule';
import type { AppConfig } from '../infrastructure/config/config.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import type { Clock } from '../infrastructure/clock/clock.js';
import { checkpoints } from '../infrastructure/projections/checkpoints.js';
import { DatabaseModule } from '../infrastructure/database.module.js';
import { AuthModule } from '../infrastructure/auth/auth.module.js';
import { DocumentCommandsModule } from '../commands/documents/document-commands.module.js';
import { documentsProjection } from '../projections/documents/documents.projection.js';
import { documentDirectory } from '../projections/documents/document-directory.js';
import { DocumentQueriesModule } from '../projections/documents/document-queries.module.js';
import { documentVersionsProjection } from '../projections/document-versions/document-versions.projection.js';
import { OpenApiController } from './openapi.controller.js';
import { HealthController } from '../infrastructure/health/health.controller.js';
import { GetReadinessHandler } from '../infrastructure/health/readiness.query.js';
import { createEmbedder } from '../infrastructure/embeddings/create-embedder.js';
import { chunksFromConfig, type LiveVersion } from '../projections/chunks/chunks.config.js';
import { SearchModule } from '../projections/chunks/search.module.js';
import { MaintenanceModule } from '../projections/maintenance/maintenance.module.js';
import { BackupModule } from '../infrastructure/backup/backup.scheduler.js';
import { AdminProjectionsController } from '../infrastructure/projections/admin-projections.controller.js';
import { Metrics } from '../infrastructure/metrics/metrics.js';
import { MetricsModule } from '../infrastructure/metrics/metrics.module.js';
import {
  DatabaseSizeLimit,
  READINESS_CHECKS,
  type ReadinessCheck,
} from '../infrastructure/health/readiness-check.js';
import { documentCountsCheck } from '../projections/documents/document-counts.check.js';
import { SEARCH_READINESS_CHECKS } from '../projections/chunks/search-readiness.js';
import { PerformanceModule } from '../infrastructure/performance/performance.module.js';
import { TimedSqlClient } from '../infrastructure/performance/timed-sql-client.js';
import { chunksVectorAdvisor } from '../projections/chunks/vector-advice.js';

@Module({})
export class AppModule {
  /** The module on an open database: the live chunks version is read from it first (see forRoot). */
  static async on(config: AppConfig, sql: SqlClient, clock?: Clock): Promise<DynamicModule> {
    return AppModule.forRoot(config, sql, await checkpoints.live(sql, 'chunks'), clock);
  }

  /**
   * `live`: the live chunks version, read from the database before the module is built (see bootstrap).
   * `clock`: injected by tests (the system clock otherwise).
   */
  static forRoot(config: AppConfig, sql: SqlClient, live?: LiveVersion, clock?: Clock): DynamicModule {
    // One registry per application (tests run several in a process), given to what is built before the graph.
    const metrics = new Metrics(clock);
    // One embedder for the process: the chunks projection writes with it, search (as EMBEDDER) queries with it.
    const chunks = chunksFromConfig(config, live, createEmbedder(config), metrics);
    // Every statement of the app is timed for GET /admin/performance (when the server has no pg_stat_statements).
    const timed = TimedSqlClient.over(sql, config.SLOW_QUERY_MS, clock);
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        ScheduleModule.forRoot(),
        DatabaseModule.forRoot(
          config,
          timed,
          {
            inline: [documentVersionsProjection, documentsProjection],
            async: [chunks.projection, ...(chunks.companion ? [chunks.companion.projection] : [])],
          },
          clock,
          metrics,
        ),
        MetricsModule.forRoot(metrics),
        AuthModule.forRoot(config),
        BackupModule,
        DocumentCommandsModule.forRoot(documentDirectory),
        DocumentQueriesModule,
        SearchModule.forRoot(chunks),
        MaintenanceModule.forRoot({ projection: chunks.projection, embedder: chunks.embedder }),
        PerformanceModule.forRoot(timed.timings, [chunksVectorAdvisor(chunks)]),
      ],
      controllers: [HealthController, OpenApiController, AdminProjectionsController],
      providers: [
        GetReadinessHandler,
        { provide: DatabaseSizeLimit, useValue: new DatabaseSizeLimit(config.DATABASE_SIZE_LIMIT_BYTES) },
        {
          provide: READINESS_CHECKS,
          inject: [SEARCH_READINESS_CHECKS],
          useFactory: (search: ReadinessCheck[]) => [documentCountsCheck, ...search],
        },
      ],
    };
  }
}
