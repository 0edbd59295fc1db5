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
import { AdminProjectionsController } from '../infrastructure/projections/admin-projections.controller.js';

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
    // One embedder for the process: the chunks projection writes with it, search (as EMBEDDER) queries with it.
    const chunks = chunksFromConfig(config, live, createEmbedder(config));
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        ScheduleModule.forRoot(),
        DatabaseModule.forRoot(
          config,
          sql,
          {
            inline: [documentVersionsProjection, documentsProjection],
            async: [chunks.projection, ...(chunks.companion ? [chunks.companion.projection] : [])],
          },
          clock,
        ),
        AuthModule.forRoot(config),
        DocumentCommandsModule.forRoot(documentDirectory),
        DocumentQueriesModule,
        SearchModule.forRoot(chunks),
      ],
      controllers: [HealthController, OpenApiController, AdminProjectionsController],
      providers: [GetReadinessHandler],
    };
  }
}
