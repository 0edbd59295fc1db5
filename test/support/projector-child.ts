/**
 * A projector in its own process, for the crash and fail-over tests. Prints one JSON line per projector event
 * on stdout. Environment: DATABASE_URL or DATA_DIR, BATCH_SIZE.
 */
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { Projector } from '../../src/infrastructure/projections/projector.js';
import { createSqlClient } from '../../src/infrastructure/sql/create-sql-client.js';
import { DataDirLockedError } from '../../src/infrastructure/sql/data-dir-lock.js';
import { counterProjection } from './counter-projection.js';
import { testRegistry } from './test-events.js';

const print = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');

async function main(): Promise<void> {
  const sql = await createSqlClient({
    DATABASE_URL: process.env.DATABASE_URL,
    DATA_DIR: process.env.DATA_DIR ?? './data',
    DATABASE_POOL_SIZE: 4,
  });
  const store = new PostgresEventStore(sql, testRegistry());
  const projector = new Projector(sql, store, counterProjection(), {
    batchSize: Number(process.env.BATCH_SIZE ?? 100),
    pollMs: 50,
    standbyRetryMs: 100,
    onEvent: (event) =>
      print(event.kind === 'error' ? { kind: 'error', message: event.error.message } : (event as object)),
  });
  projector.start();
  print({ kind: 'started', pid: process.pid });
  process.on('SIGTERM', () => {
    void projector
      .stop()
      .then(() => sql.close())
      .then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  print({
    kind: 'fatal',
    code: error instanceof DataDirLockedError ? 'DATA_DIR_LOCKED' : 'ERROR',
    message: String(error),
  });
  process.exit(3);
});
