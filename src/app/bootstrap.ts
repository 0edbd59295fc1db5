import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import type { Clock } from '../infrastructure/clock/clock.js';
import type { AppConfig } from '../infrastructure/config/config.js';
import { migrated, openDatabase } from '../infrastructure/database.module.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import type { NextFunction, Request, Response } from 'express';
import { MalformedBodyError, PayloadTooLargeError } from '../infrastructure/http/http-errors.js';
import { ProblemFilter, sendProblem } from '../infrastructure/http/problem.filter.js';
import { failedAuthLimitMiddleware, rateLimitMiddleware } from '../infrastructure/http/rate-limit.js';
import { routeGuard } from '../infrastructure/http/route-guard.js';
import swaggerUi from 'swagger-ui-express';
import { openApiDocument } from './openapi.js';
import { createLogger } from '../infrastructure/logging/create-logger.js';
import { observeRequests } from '../infrastructure/http/request-observer.js';
import { Metrics } from '../infrastructure/metrics/metrics.js';

/** Errors of the body parser happen before routing, where Nest's filters do not reach: same problem+json here. */
function bodyParserErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  const e = error as { type?: string; status?: number };
  if (!e?.type) return next(error);
  sendProblem(
    res,
    e.type === 'entity.too.large'
      ? new PayloadTooLargeError('the JSON body is larger than JSON_BODY_LIMIT_BYTES allows')
      : new MalformedBodyError(`the request body could not be read: ${e.type}`),
  );
}

/**
 * Builds the HTTP application (not yet listening): tests use it on a random port (with their own client and,
 * for exact moments, their own clock), `serve` on PORT.
 */
export async function createApp(
  config: AppConfig,
  sqlClient?: SqlClient,
  options: { clock?: Clock } = {},
): Promise<INestApplication> {
  const sql = sqlClient ? await migrated(sqlClient) : await openDatabase(config);
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(await AppModule.on(config, sql, options.clock), {
      logger: createLogger(config),
      bodyParser: false,
      abortOnError: false,
    });
  } catch (error) {
    await sql.close();
    throw error;
  }
  const document = openApiDocument();
  // First: every response, refusals included, carries the request id and is measured.
  app.use(observeRequests(app.getHttpAdapter().getInstance(), app.get(Metrics)));
  app.use(failedAuthLimitMiddleware(config.AUTH_FAILURES_PER_MINUTE));
  app.use(rateLimitMiddleware(config.RATE_LIMIT_PER_MINUTE));
  app.use(routeGuard(app.getHttpAdapter().getInstance(), document.paths ?? {}));
  app.useBodyParser('json', { limit: config.JSON_BODY_LIMIT_BYTES });
  app.use(bodyParserErrors);
  app.useGlobalFilters(new ProblemFilter());
  // The API description is public (API.md, Auth): a browsable UI over the generated document.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'docsvc API' }));
  app.disable('x-powered-by');
  keepIdleConnectionsOpen(app);
  app.enableShutdownHooks();
  return app;
}

/**
 * Node closes an idle keep-alive connection after 5 s. A client (or a load balancer) that sends its next request
 * on it just as it closes gets ECONNRESET, and a POST is not retried; seen with uploads while the event loop was
 * busy. Idle connections stay open longer than the usual client and balancer idle timeouts (60 s), so the
 * client always closes first; headers must still arrive in time.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function keepIdleConnectionsOpen(app: INestApplication): void {
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
}
