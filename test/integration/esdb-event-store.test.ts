import { EventStoreDBClient } from '@eventstore/db-client';
import { EsdbEventStore } from '../../src/infrastructure/event-store/esdb/esdb-event-store.js';
import { openTestDatabase } from '../support/databases.js';
import { startStandIn } from '../support/esdb-stand-in/index.js';
import { testRegistry } from '../support/test-events.js';
import { eventStoreContract } from './event-store.contract.js';

/**
 * The event store contract through the real @eventstore/db-client: against the in-process protocol stand-in
 * always, in both of the client's append paths, and against a live EventStoreDB or KurrentDB server whenever
 * EVENTSTORE_CONNECTION_STRING names one (docs/eventstoredb.md). Idempotency keys live in PostgreSQL (PGlite here).
 */
for (const batchAppend of [true, false]) {
  eventStoreContract(
    `EventStoreDB adapter, stand-in${batchAppend ? ' (BatchAppend)' : ' (Append)'}`,
    async () => {
      const standIn = await startStandIn({ batchAppend });
      const client = EventStoreDBClient.connectionString(standIn.connectionString);
      const db = await openTestDatabase('pglite');
      return {
        store: (registry = testRegistry()) => new EsdbEventStore(client, db.client, registry),
        async cleanup() {
          await client.dispose();
          standIn.stop();
          await db.drop();
        },
      };
    },
  );
}

const live = process.env.EVENTSTORE_CONNECTION_STRING;
if (live) {
  eventStoreContract('EventStoreDB adapter, live server (EVENTSTORE_CONNECTION_STRING)', async () => {
    const client = EventStoreDBClient.connectionString(live);
    const db = await openTestDatabase('pglite');
    return {
      store: (registry = testRegistry()) => new EsdbEventStore(client, db.client, registry),
      async cleanup() {
        await client.dispose();
        await db.drop();
      },
    };
  });
}
