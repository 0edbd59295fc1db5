/**
 * What the fault scenarios of issue 17 (a-import-kill.ts to d-provider-failure.ts, one repetition each) share:
 * their outcome (figures, and the properties that failed: an empty `violations` = every property held), the steps
 * around the process that is killed, and the arguments of a folder import. reliability/faults.ts repeats the
 * scenarios; test/e2e/faults.test.ts runs one small repetition of (a), (b) and (d). Every kill point is found
 * from the database's state (rows written so far, locks held), never from a timer, except where the scenario is
 * a duration (PostgreSQL kept down, the provider failing for a while).
 */
import { freshDatabase, type Database } from './databases.js';
import type { Library } from './library.js';
import { chunksCaughtUp } from './checks.js';
import { runCli, startServe, until, type CliRunner, type Service } from './processes.js';

export interface Outcome<F> {
  figures: F;
  violations: string[];
}

/** A random kill point, `lo` to `hi` inclusive. */
export const randomInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

async function stopGracefully(svc: Service): Promise<void> {
  await svc.kill('SIGTERM');
}

/**
 * The steps around the process that is killed: by the CLI as a user runs it (the long run), or in the test's own
 * process (the short run in npm test, where each child started through tsx costs seconds).
 */
export interface Steps {
  createDatabase(serverUrl: string, env: Record<string, string>): Promise<Database>;
  /** `docsvc <args>` to its end (import, rebuild). */
  run(
    args: string[],
    env: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /**
   * A service that runs until the chunks projection has caught up with every event, then stops; resolves with the
   * seconds from its start to caught up.
   */
  project(db: Database, env: Record<string, string>): Promise<number>;
}

export function cliSteps(cli: CliRunner): Steps {
  return {
    createDatabase: (serverUrl, env) => freshDatabase(serverUrl, cli, env),
    run: (args, env) => runCli(cli, args, env),
    async project(db, env) {
      const started = Date.now();
      const svc = await startServe(cli, env);
      try {
        await until(() => chunksCaughtUp(db), 600_000, 'the projection to catch up', 50);
        return (Date.now() - started) / 1000;
      } finally {
        await stopGracefully(svc);
      }
    },
  };
}

/** `docsvc import` of `library` for `coach`, reporting as JSON. */
export const importArgs = (library: Library, coach: string, ...more: string[]) => [
  'import',
  library.root,
  ...['--coach', coach, '--type', 'guide', '--tier', 'free', '--json', ...more],
];
