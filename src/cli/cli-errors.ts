import { CommanderError } from 'commander';
import { documentIdSchema } from '../domain/schemas.js';
import { BackupError } from '../infrastructure/backup/backup-format.js';
import { ConfigError } from '../infrastructure/config/config.js';
import { MigrationError } from '../infrastructure/migrations/migrator.js';
import { DatabaseUnavailableError } from '../infrastructure/sql/database-unavailable.js';
import { DataDirLockedError } from '../infrastructure/sql/data-dir-lock.js';

/** Exit codes are part of the CLI contract: 0 only when everything succeeded. */
/** 130: stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, interrupted: 130 } as const;

/** A failure the CLI explains in one line: a stable `code` (as in --json output) and its exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code = exitCode === EXIT.usage ? 'USAGE' : 'FAILED',
  ) {
    super(message);
  }
}

export function assertUuid(id: string): void {
  if (!documentIdSchema.safeParse(id).success)
    throw new CliFailure(`document ids are UUIDs; "${id.slice(0, 80)}" is not one`, EXIT.usage);
}

/** A refused request (bad id, unknown document, conflict) is a failure with its code, not a stack trace. */
export function usageOrFailure(error: unknown): never {
  if (error instanceof Error && 'code' in error && 'status' in error) {
    const status = Number((error as { status: unknown }).status);
    const code = String(error.code);
    const exit = code === 'VALIDATION_FAILED' ? EXIT.usage : EXIT.failed;
    throw new CliFailure(`${code} (${status}): ${error.message}`, exit, code);
  }
  throw error;
}

/** Failures of the environment (not bugs), each with the code --json reports. */
const EXPECTED: Array<[new (...args: never[]) => Error, string]> = [
  [MigrationError, 'MIGRATION'],
  [DataDirLockedError, 'DATA_DIR_LOCKED'],
  [DatabaseUnavailableError, 'DATABASE_UNAVAILABLE'],
];

/**
 * What the user is told when a command fails. Expected failures are one line; anything else keeps its stack,
 * since it is a bug to report.
 */
export function describeFailure(error: unknown): CliFailure {
  if (error instanceof CliFailure) return error;
  if (error instanceof CommanderError) return new CliFailure(error.message, EXIT.usage);
  if (error instanceof ConfigError) return new CliFailure(error.message, EXIT.config, 'CONFIG');
  if (error instanceof BackupError) return new CliFailure(error.message, EXIT.failed, error.code);
  const expected = EXPECTED.find(([type]) => error instanceof type);
  if (expected) return new CliFailure((error as Error).message, EXIT.failed, expected[1]);
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return new CliFailure(text, EXIT.failed, 'INTERNAL_ERROR');
}
