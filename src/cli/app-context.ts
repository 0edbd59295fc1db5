import { userInfo } from 'node:os';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app/app.module.js';
import type { Principal } from '../domain/access.js';
import type { AppConfig } from '../infrastructure/config/config.js';
import { migrated, openDatabase } from '../infrastructure/database.module.js';
import { createLogger } from '../infrastructure/logging/create-logger.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';

/** The CLI acts as an admin on every coach; its events name the operating-system user who ran it. */
export function cliPrincipal(): Principal {
  return { keyId: `cli:${safeUser()}`, role: 'admin', coaches: '*', tier: 'premium' };
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The service's module graph without HTTP, on the configured database. Projectors run only when asked
 * (`rebuild`). A client passed in (tests) is used and left open.
 */
export async function withContext<T>(
  config: AppConfig,
  options: { projectors: boolean; db?: SqlClient },
  run: (get: <S>(token: new (...a: never[]) => S) => S) => Promise<T>,
): Promise<T> {
  const sql = options.db
    ? Object.assign(Object.create(await migrated(options.db)) as SqlClient, { close: async () => undefined })
    : await openDatabase(config);
  // Modules log while they are built, before the context's logger is in place: on stderr too.
  const logger = createLogger({ ...config, LOG_LEVEL: 'warn' }, 'stderr');
  Logger.overrideLogger(logger);
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(
      await AppModule.on({ ...config, PROJECTOR_ENABLED: options.projectors }, sql),
      { logger, abortOnError: false },
    );
  } catch (error) {
    await sql.close();
    throw error;
  }
  try {
    return await run((token) => app.get(token));
  } finally {
    await app.close();
  }
}
