import { userInfo } from 'node:os';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { AppModule } from '../app.module.js';
import { RollBackDocumentCommand } from '../commands/rollback-document/rollback-document.js';
import type { Principal } from '../infrastructure/auth/principal.js';
import type { AppConfig } from '../infrastructure/config/config.js';
import { migrated, openDatabase } from '../infrastructure/database.module.js';
import { createLogger } from '../infrastructure/logging/create-logger.js';
import { ProjectionEngine, type ProjectionStatus } from '../infrastructure/projections/projection-engine.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import { checkpoints } from '../infrastructure/projections/checkpoints.js';
import { ListVersionsQuery, type VersionEntry } from '../projections/document-versions/history-queries.js';

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
async function withContext<T>(
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
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot(
      { ...config, PROJECTOR_ENABLED: options.projectors },
      sql,
      await checkpoints.live(sql, 'chunks'),
    ),
    { logger, abortOnError: false },
  );
  try {
    return await run((token) => app.get(token));
  } finally {
    await app.close();
  }
}

export async function runHistory(config: AppConfig, documentId: string, db?: SqlClient) {
  return withContext(config, { projectors: false, db }, async (get) => {
    const { versions } = (await get(QueryBus).execute(new ListVersionsQuery(cliPrincipal(), documentId))) as {
      versions: VersionEntry[];
    };
    const human = versions
      .map((v) => {
        const what = v.rolledBackTo ? `${v.change} to v${v.rolledBackTo}` : v.change;
        const why = v.changeSummary ? `  "${v.changeSummary}"` : '';
        return `v${v.version}  ${v.at}  ${what.padEnd(16)} ${v.actor}  @${v.position}${why}`;
      })
      .join('\n');
    return { data: { documentId, versions }, human };
  });
}

export async function runRollback(
  config: AppConfig,
  documentId: string,
  toVersion: number,
  reason: string | undefined,
  db?: SqlClient,
) {
  return withContext(config, { projectors: false, db }, async (get) => {
    const result = (await get(CommandBus).execute(
      new RollBackDocumentCommand({
        principal: cliPrincipal(),
        documentId,
        body: { toVersion, ...(reason ? { reason } : {}) },
      }),
    )) as { version: number; position: string; changed?: boolean };
    const human =
      result.changed === false
        ? `document ${documentId} already equals version ${toVersion}; nothing written (still v${result.version})`
        : `document ${documentId} rolled back to version ${toVersion}: now v${result.version} at ${result.position}`;
    return { data: { documentId, ...result }, human };
  });
}

/**
 * `docsvc rebuild [name]`: asks for a rebuild and follows it until the projection is live again. The rebuild is
 * done by whichever process holds the projection (this one if no service is running), so it can be run beside
 * a running service on PostgreSQL. Progress goes to stderr.
 */
export async function runRebuild(
  config: AppConfig,
  name: string | undefined,
  progress: (line: string, final: boolean) => void,
  options: { db?: SqlClient; timeoutMs?: number } = {},
) {
  return withContext(config, { projectors: true, db: options.db }, async (get) => {
    const engine = get(ProjectionEngine);
    const all = (await engine.status()).filter((s) => s.kind === 'async');
    const chosen = name ? all.filter((s) => s.name === name) : all;
    if (name && chosen.length === 0) await engine.requestRebuild(name); // throws NOT_FOUND with the names known
    const started = performance.now();
    const done: ProjectionStatus[] = [];
    for (const p of chosen) {
      await engine.requestRebuild(p.name);
      const after = p.rebuilds ?? 0;
      done.push(await follow(engine, p.name, after, progress, options.timeoutMs ?? 24 * 3600_000));
    }
    const seconds = (performance.now() - started) / 1000;
    const human = done
      .map((s) => `rebuilt ${s.name} v${s.version}: at ${s.position ?? 'start'}, ${s.status}`)
      .join('\n');
    return { data: { rebuilt: done, seconds }, human: `${human}\n(${seconds.toFixed(1)} s)` };
  });
}

async function follow(
  engine: ProjectionEngine,
  name: string,
  rebuildsBefore: number,
  progress: (line: string, final: boolean) => void,
  timeoutMs: number,
): Promise<ProjectionStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await engine.status()).find((x) => x.name === name)!;
    // Done: this rebuild has started (the checkpoint was reset), the projection caught up and went live again.
    if ((s.rebuilds ?? 0) > rebuildsBefore && !s.rebuildRequested && s.status === 'live' && s.lag === 0) {
      progress(`${name}: rebuilt`, true);
      return s;
    }
    if (s.lastError) progress(`${name}: retrying after an error: ${s.lastError}`, false);
    else progress(`${name}: ${s.status}, ${s.lag.toLocaleString('en-US')} events to go`, false);
    if (Date.now() > deadline) throw new Error(`the rebuild of ${name} did not finish in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
