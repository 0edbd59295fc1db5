import type { EventStoreDBClient } from '@eventstore/db-client';
import type { AppConfig } from '../infrastructure/config/config.js';
import type { MigrationResult } from '../infrastructure/event-store/esdb/migrate-events.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import { CliFailure, EXIT } from './cli-errors.js';
import { progressOnStderr } from './progress-line.js';

/** `docsvc migrate-events --to eventstoredb` (docs/eventstoredb.md): the PostgreSQL log moved, then verified. */

export interface MigrateEventsOptions {
  to: string;
  connectionString?: string;
}

/** The same shape the configuration accepts for EVENTSTORE_CONNECTION_STRING. */
const CONNECTION_STRING = /^(esdb|kurrentdb)(\+discover)?:\/\//;

export async function runMigrateEvents(
  config: AppConfig,
  options: MigrateEventsOptions,
  db?: SqlClient,
): Promise<{ human: string; data: MigrationResult }> {
  const connectionString = targetOf(config, options);
  const { migrateEvents } = await import('../infrastructure/event-store/esdb/migrate-events.js');
  const result = await withDatabase(config, db, async (sql) => {
    const client = await connect(connectionString);
    try {
      const progress = progressOnStderr();
      const moved = await migrateEvents(sql, client, {
        onProgress: ({ migrated, total }) =>
          progress(
            `migrate-events: ${migrated.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} events` +
              (migrated === total ? '; verifying both logs' : ''),
            false,
          ),
      });
      progress(`migrate-events: ${moved.migrated.toLocaleString('en-US')} events moved, logs compared`, true);
      return moved;
    } catch (error) {
      throw await explained(error);
    } finally {
      await client.dispose();
    }
  });
  if (!result.verification.ok) throw verificationFailed(result);
  return { human: describe(result), data: result };
}

/** The refusals come before anything is opened: a wrong target or no server to write to. */
function targetOf(config: AppConfig, options: MigrateEventsOptions): string {
  if (options.to !== 'eventstoredb')
    throw new CliFailure(
      `--to must be "eventstoredb" (the only event store the log can be moved into), not "${options.to.slice(0, 80)}"`,
      EXIT.usage,
      'UNSUPPORTED_TARGET',
    );
  const connectionString = options.connectionString ?? config.EVENTSTORE_CONNECTION_STRING;
  if (!connectionString)
    throw new CliFailure(
      'no EventStoreDB server to move the log into: set EVENTSTORE_CONNECTION_STRING or pass ' +
        '--connection-string (e.g. esdb://localhost:2113?tls=false)',
      EXIT.usage,
      'CONNECTION_STRING_REQUIRED',
    );
  if (!CONNECTION_STRING.test(connectionString)) throw invalidConnectionString();
  return connectionString;
}

/** The connection string is never echoed: it may hold a password. */
function invalidConnectionString(): CliFailure {
  return new CliFailure(
    'the EventStoreDB connection string must be an esdb:// (or esdb+discover://) URL',
    EXIT.usage,
    'INVALID_CONNECTION_STRING',
  );
}

async function connect(connectionString: string): Promise<EventStoreDBClient> {
  const { EventStoreDBClient } = await import('@eventstore/db-client');
  try {
    return EventStoreDBClient.connectionString(connectionString);
  } catch {
    throw invalidConnectionString();
  }
}

/** Failures of the target that an operator can act on, each with its code; anything else stays a bug. */
async function explained(error: unknown): Promise<unknown> {
  const { ForeignEventsError } = await import('../infrastructure/event-store/esdb/migrate-events.js');
  const { UnavailableError, WrongExpectedVersionError } = await import('@eventstore/db-client');
  if (error instanceof UnavailableError)
    return new CliFailure(
      `cannot reach EventStoreDB: ${error.message}`,
      EXIT.failed,
      'EVENTSTORE_UNAVAILABLE',
    );
  if (error instanceof ForeignEventsError || error instanceof WrongExpectedVersionError)
    return new CliFailure(
      `EventStoreDB already holds other events (${error.message}); move the log into an empty server`,
      EXIT.failed,
      'EVENTSTORE_NOT_EMPTY',
    );
  return error;
}

function verificationFailed(result: MigrationResult): CliFailure {
  const { postgres: pg, eventstoredb: es } = result.verification;
  return new CliFailure(
    `verification failed after moving ${result.migrated} event(s): PostgreSQL has ${pg.events} events ` +
      `(sha256 ${pg.sha256}), EventStoreDB ${es.events} (sha256 ${es.sha256})`,
    EXIT.failed,
    'MIGRATION_VERIFY_FAILED',
  );
}

function describe(result: MigrationResult): string {
  const { postgres: pg, eventstoredb: es } = result.verification;
  const from = result.resumedAfter ? `resumed after position ${result.resumedAfter}` : 'from the start';
  return [
    `moved ${result.migrated} event(s) into EventStoreDB (${from})`,
    `  postgres      ${pg.events} events  sha256 ${pg.sha256}`,
    `  eventstoredb  ${es.events} events  sha256 ${es.sha256}`,
    'verified: both logs hold the same events',
  ].join('\n');
}

/** The source is always the PostgreSQL log, whichever event store the service is configured to use. */
async function withDatabase<T>(
  config: AppConfig,
  db: SqlClient | undefined,
  run: (sql: SqlClient) => Promise<T>,
): Promise<T> {
  const { openDatabase } = await import('../infrastructure/database.module.js');
  const sql = db ?? (await openDatabase({ ...config, EVENT_STORE: 'postgres' }));
  try {
    return await run(sql);
  } finally {
    if (!db) await sql.close();
  }
}
