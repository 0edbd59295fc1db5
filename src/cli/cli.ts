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

  return program;
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
