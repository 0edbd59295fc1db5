import { documentIdSchema } from '../domain/schemas.js';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type AppConfig } from '../infrastructure/config/config.js';
import { migrate, MigrationError } from '../infrastructure/migrations/migrator.js';
import { createSqlClient } from '../infrastructure/sql/create-sql-client.js';
import { DataDirLockedError } from '../infrastructure/sql/data-dir-lock.js';

/** Exit codes are part of the CLI contract: 0 only when everything succeeded. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3 } as const;

class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function config(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliFailure(error.message, EXIT.config);
    throw error;
  }
}

function print(json: boolean, human: string, data: unknown): void {
  process.stdout.write(json ? JSON.stringify(data) + '\n' : human + '\n');
}

export function buildProgram(): Command {
  const program = new Command('docsvc')
    .description('Event-sourced document service for retrieval-augmented generation')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('start the HTTP service (command API, query API, projectors)')
    .action(async () => {
      const cfg = config();
      const { createApp } = await import('../infrastructure/http/bootstrap.js');
      const started = performance.now();
      const app = await createApp(cfg);
      await app.listen(cfg.PORT, cfg.HOST);
      const address = app.getHttpServer().address() as { port: number };
      const where = cfg.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${cfg.DATA_DIR}`;
      new (await import('@nestjs/common')).Logger('docsvc').log(
        `docsvc listening on port ${address.port} (${where}); ready in ${Math.round(performance.now() - started)} ms`,
      );
      await new Promise(() => undefined);
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const sql = await createSqlClient(config());
      try {
        const { applied } = await migrate(sql);
        print(
          Boolean(options.json),
          applied.length
            ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
            : 'database is up to date',
          { applied },
        );
      } finally {
        await sql.close();
      }
    });

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
      const out = await runSearch(config(), query, o).catch((error: unknown) => {
        if (error instanceof Error && 'code' in error && error.code === 'VALIDATION_FAILED') {
          throw new CliFailure(error.message, EXIT.usage);
        }
        throw error;
      });
      print(Boolean(o.json), out.human, out.data);
    });

  program
    .command('history')
    .description("a document's versions: what changed, who, when, why, and the position of each")
    .argument('<documentId>', 'the document')
    .option('--json', 'print the versions as JSON')
    .action(async (documentId: string, o: { json?: boolean }) => {
      assertUuid(documentId);
      const { runHistory } = await import('./history-commands.js');
      const out = await runHistory(config(), documentId).catch(usageOrFailure);
      print(Boolean(o.json), out.human, out.data);
    });

  program
    .command('rollback')
    .description('append a new version equal to an earlier one (brings a retired document back)')
    .argument('<documentId>', 'the document')
    .argument('<version>', 'the version to go back to')
    .option('--reason <text>', 'why (kept in the history)')
    .option('--json', 'print the result as JSON')
    .action(async (documentId: string, version: string, o: { reason?: string; json?: boolean }) => {
      assertUuid(documentId);
      if (!/^\d{1,9}$/.test(version) || Number(version) < 1)
        throw new CliFailure(`version must be a positive whole number, not "${version}"`, EXIT.usage);
      const { runRollback } = await import('./history-commands.js');
      const out = await runRollback(config(), documentId, Number(version), o.reason).catch(usageOrFailure);
      print(Boolean(o.json), out.human, out.data);
    });

  program
    .command('rebuild')
    .description('rebuild a projection (every async one without a name) from the events, showing progress')
    .argument('[projection]', 'e.g. chunks, documents, document_versions')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const { runRebuild } = await import('./history-commands.js');
      const tty = process.stderr.isTTY;
      let last = 0;
      const progress = (line: string, final: boolean) => {
        // On a terminal one line is rewritten in place; otherwise a line every few seconds (logs stay short).
        if (tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
        else if (final || Date.now() - last > 5_000) {
          process.stderr.write(`${line}\n`);
          last = Date.now();
        }
      };
      const out = await runRebuild(config(), name, progress).catch(usageOrFailure);
      print(Boolean(o.json), out.human, out.data);
    });

  return program;
}

function assertUuid(id: string): void {
  if (!documentIdSchema.safeParse(id).success)
    throw new CliFailure(`document ids are UUIDs; "${id.slice(0, 80)}" is not one`, EXIT.usage);
}

/** A refused request (bad id, unknown document, conflict) is a failure with its code, not a stack trace. */
function usageOrFailure(error: unknown): never {
  if (error instanceof Error && 'code' in error && 'status' in error) {
    const status = Number((error as { status: unknown }).status);
    const exit = error.code === 'VALIDATION_FAILED' ? EXIT.usage : EXIT.failed;
    throw new CliFailure(`${String(error.code)} (${status}): ${error.message}`, exit);
  }
  throw error;
}

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

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof ConfigError) {
      process.stderr.write(`docsvc: ${error.message}\n`);
      return EXIT.config;
    }
    if (error instanceof CliFailure) {
      process.stderr.write(`docsvc: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof MigrationError || error instanceof DataDirLockedError) {
      process.stderr.write(`docsvc: ${error.message}\n`);
      return EXIT.failed;
    }
    process.stderr.write(
      `docsvc: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.failed;
  }
}
