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

describe('EventStoreDB adapter: watch', () => {
  it("wakes on another client's append through the live subscription, and not after it is closed", async () => {
    const standIn = await startStandIn();
    const [watching, writing] = [0, 1].map(() =>
      EventStoreDBClient.connectionString(standIn.connectionString),
    );
    const db = await openTestDatabase('pglite');
    try {
      const watcher = new EsdbEventStore(watching!, db.client, testRegistry());
      const writer = new EsdbEventStore(writing!, db.client, testRegistry());
      let wakes = 0;
      let woken: () => void = () => undefined;
      const close = watcher.watch(() => {
        wakes++;
        woken();
      });
      // The subscription is live once the server confirms it; appends before that may not be seen, so retry.
      for (let n = 0; wakes === 0; n++) {
        const next = new Promise<void>((resolve) => (woken = resolve));
        await writer.append(`watched-${n}`, [{ type: 'CounterIncremented', data: { by: 1 } }], {
          expectedVersion: 'no_stream',
        });
        await Promise.race([next, new Promise((resolve) => setImmediate(resolve))]);
        if (n > 1000) throw new Error('never woken');
      }
      await close();
      const before = wakes;
      await writer.append('after-close', [{ type: 'CounterIncremented', data: { by: 1 } }], {
        expectedVersion: 'no_stream',
      });
      const seen = await watcher.readStream('after-close');
      expect(seen).toHaveLength(1);
      expect(wakes).toBe(before);
    } finally {
      await watching!.dispose();
      await writing!.dispose();
      standIn.stop();
      await db.drop();
    }
  });
});
