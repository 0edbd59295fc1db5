import { randomUUID } from 'node:crypto';
import { EventStoreDBClient } from '@eventstore/db-client';
import { EsdbEventStore } from '../../src/infrastructure/event-store/esdb/esdb-event-store.js';
import { migrateEvents } from '../../src/infrastructure/event-store/esdb/migrate-events.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { startStandIn, type StandIn } from '../support/esdb-stand-in/index.js';
import { testRegistry } from '../support/test-events.js';

const inc = (by: number) => ({ type: 'CounterIncremented', data: { by } });

describe.each(targets())('migrate-events from %s into EventStoreDB (stand-in)', (kind) => {
  let db: TestDatabase;
  let standIn: StandIn;
  let client: EventStoreDBClient;
  const streams = [`counter-${randomUUID()}`, `counter-${randomUUID()}`, `note-${randomUUID()}`];
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    standIn = await startStandIn();
    client = EventStoreDBClient.connectionString(standIn.connectionString);
    const store = new PostgresEventStore(db.client, testRegistry());
    await store.append(streams[0]!, [inc(1), inc(2), inc(3)], {
      expectedVersion: 'no_stream',
      actor: 'alice',
    });
    await store.append(streams[1]!, [inc(10)], { expectedVersion: 'no_stream' });
    await store.append(streams[2]!, [{ type: 'NoteAdded', data: { text: 'héllo ✓' } }], {
      expectedVersion: 'no_stream',
    });
    for (let v = 3; v < 8; v++) await store.append(streams[0]!, [inc(v + 1)], { expectedVersion: v });
    await store.append(streams[1]!, [inc(11), inc(12)], { expectedVersion: 1 });
  });
  afterAll(async () => {
    // The server goes first: its end fails every call still open, which lets the client's dispose finish.
    standIn?.stop();
    await client?.dispose();
    await db?.drop();
  });

  it('moves every event in order with its id, payload, metadata and time, resuming after an interruption', async () => {
    const interrupted = await migrateEvents(db.client, client, { stopAfter: 5 });
    expect(interrupted.migrated).toBe(5);
    expect(interrupted.verification.ok).toBe(false);
    expect(interrupted.verification.eventstoredb.events).toBe(5);

    const resumed = await migrateEvents(db.client, client);
    expect(resumed.resumedAfter).not.toBeNull();
    expect(resumed.migrated).toBe(7);
    expect(resumed.verification).toMatchObject({
      ok: true,
      postgres: { events: 12 },
      eventstoredb: { events: 12 },
    });
    expect(resumed.verification.postgres.sha256).toBe(resumed.verification.eventstoredb.sha256);

    const [from, to] = [
      new PostgresEventStore(db.client, testRegistry()),
      new EsdbEventStore(client, db.client, testRegistry()),
    ];
    for (const id of streams)
      expect(await to.readStream(id)).toEqual(
        (await from.readStream(id)).map(({ position: _, ...e }) => expect.objectContaining(e)),
      );
    const all = await to.readAll({ limit: 100 });
    const original = await from.readAll({ limit: 100 });
    expect(all.events.map((e) => e.eventId)).toEqual(original.events.map((e) => e.eventId));

    const again = await migrateEvents(db.client, client);
    expect(again).toMatchObject({ migrated: 0, verification: { ok: true } });
  });
});
