import type { Command } from 'commander';
import { loadConfig } from '../infrastructure/config/config.js';
import { migrate } from '../infrastructure/migrations/migrator.js';
import { createSqlClient } from '../infrastructure/sql/create-sql-client.js';
import { assertUuid, CliFailure, EXIT, usageOrFailure } from './cli-errors.js';
import type { CliOutput } from './output.js';
import { mallocAdvice } from './malloc-advice.js';
import { progressOnStderr } from './progress-line.js';

/** The command groups of `docsvc`, each adding its commands to the program. */

export interface SearchOptions {
  coach: string;
  k: string;
  mode: string;
  tag?: string[];
  type?: string[];
  tier?: string;
  freeOnly?: boolean;
  asOf?: string;
  json?: boolean;
}

/** `serve`, `migrate` and `migrate-events`: running the service and preparing its database. */
export function addServiceCommands(program: Command, out: CliOutput): void {
  program
    .command('serve')
    .description('start the HTTP service (command API, query API, projectors)')
    .action(async () => {
      const cfg = loadConfig();
      const { createApp } = await import('../app/bootstrap.js');
      const started = performance.now();
      const app = await createApp(cfg);
      await app.listen(cfg.PORT, cfg.HOST);
      const address = app.getHttpServer().address() as { port: number };
      const where = cfg.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${cfg.DATA_DIR}`;
      const logger = new (await import('@nestjs/common')).Logger('docsvc');
      logger.log(
        `docsvc listening on port ${address.port} (${where}); ready in ${Math.round(performance.now() - started)} ms`,
      );
      const advice = mallocAdvice(process.env);
      if (advice) logger.warn(advice);
      await new Promise(() => undefined);
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('--json', 'print the result as JSON')
    .action(async () => {
      const sql = await createSqlClient(loadConfig());
      try {
        const { applied } = await migrate(sql);
        const human = applied.length
          ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
          : 'database is up to date';
        out.result(human, { applied });
      } finally {
        await sql.close();
      }
    });

  program
    .command('migrate-events')
    .description(
      'move the PostgreSQL event log into EventStoreDB (resumable), then verify both logs (counts, sha256)',
    )
    .requiredOption('--to <store>', 'the event store to move the log into: eventstoredb')
    .option('--connection-string <url>', 'the EventStoreDB server (default: EVENTSTORE_CONNECTION_STRING)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { to: string; connectionString?: string }) => {
      const { runMigrateEvents } = await import('./migrate-events-command.js');
      const result = await runMigrateEvents(loadConfig(), o);
      out.result(result.human, result.data);
    });
}

export function addSearchCommand(program: Command, out: CliOutput): void {
  program
    .command('search')
    .description(
      "search a coach's corpus from the database (as an admin; --free-only reads as a free reader)",
    )
    .argument('<query>', 'the question')
    .requiredOption('--coach <coachId>', 'the coach whose corpus is searched')
    .option('-k, --k <n>', 'how many passages (1-100)', '10')
    .option('--mode <mode>', 'hybrid, vector or text', 'hybrid')
    .option('--tag <tag...>', 'only chunks with any of these tags')
    .option('--type <documentType...>', 'only these document types')
    .option('--tier <tier>', 'only free or premium documents')
    .option('--free-only', 'answer as a free reader would be answered')
    .option('--as-of <time>', 'the corpus as it stood at this ISO-8601 moment')
    .option('--json', 'print the results as JSON')
    .action(async (query: string, o: SearchOptions) => {
      const { runSearch } = await import('./search-command.js');
      const result = await runSearch(loadConfig(), query, o).catch(usageOrFailure);
      out.result(result.human, result.data);
    });
}

/** `history` and `rollback`: a document's versions, and going back to one. */
export function addHistoryCommands(program: Command, out: CliOutput): void {
  program
    .command('history')
    .description("a document's versions: what changed, who, when, why, and the position of each")
    .argument('<documentId>', 'the document')
    .option('--json', 'print the versions as JSON')
    .action(async (documentId: string) => {
      assertUuid(documentId);
      const { runHistory } = await import('./history-commands.js');
      const result = await runHistory(loadConfig(), documentId).catch(usageOrFailure);
      out.result(result.human, result.data);
    });

  program
    .command('rollback')
    .description('append a new version equal to an earlier one (brings a retired document back)')
    .argument('<documentId>', 'the document')
    .argument('<version>', 'the version to go back to')
    .option('--reason <text>', 'why (kept in the history)')
    .option('--json', 'print the result as JSON')
    .action(async (documentId: string, version: string, o: { reason?: string }) => {
      assertUuid(documentId);
      if (!/^\d{1,9}$/.test(version) || Number(version) < 1)
        throw new CliFailure(`version must be a positive whole number, not "${version}"`, EXIT.usage);
      const { runRollback } = await import('./history-commands.js');
      const result = await runRollback(loadConfig(), documentId, Number(version), o.reason).catch(
        usageOrFailure,
      );
      out.result(result.human, result.data);
    });
}

export function addRebuildCommand(program: Command, out: CliOutput): void {
  program
    .command('rebuild')
    .description('rebuild a projection (every async one without a name) from the events, showing progress')
    .argument('[projection]', 'e.g. chunks, documents, document_versions')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined) => {
      const { runRebuild } = await import('./history-commands.js');
      const result = await runRebuild(loadConfig(), name, progressOnStderr()).catch(usageOrFailure);
      out.result(result.human, result.data);
    });
}

/** `maintenance`: the maintenance tasks now, on the configured database (docs/maintenance.md). */
export function addMaintenanceCommand(program: Command, out: CliOutput): void {
  program
    .command('maintenance')
    .description(
      'run the maintenance tasks now: expired cache, read models against the events, orphans, VACUUM, vector index',
    )
    .option('--json', 'print the report as JSON')
    .action(async () => {
      const { runMaintenance } = await import('./maintenance-command.js');
      const result = await runMaintenance(loadConfig()).catch(usageOrFailure);
      out.result(result.human, result.data, result.exitCode);
    });
}
