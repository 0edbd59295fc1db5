import { randomUUID } from 'node:crypto';
import { VersionConflictError } from '../../src/infrastructure/event-store/errors.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import type { Projection } from '../../src/infrastructure/projections/projection.js';
import { ensureCounterTable, summarize } from '../support/counter-projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';
import { counterProjection } from '../support/counter-projection.js';

describe.each(targets())('inline projections on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    await ensureCounterTable(db.client);
  });
  afterAll(() => db.drop());

  it('are written in the append transaction: visible at once, gone with a refused or failed append', async () => {
    const inline = counterProjection();
    let explode = false;
    const guarded: Projection = {
      ...inline,
      async apply(tx, events) {
        await inline.apply(tx, events);
        if (explode) throw new Error('read model refused the event');
      },
    };
    const store = new PostgresEventStore(db.client, testRegistry(), [guarded]);
    const id = `inline-${randomUUID()}`;
    await store.append(
      id,
      [
        { type: 'CounterIncremented', data: { by: 2 } },
        { type: 'NoteAdded', data: { text: 'skip' } },
      ],
      {
        expectedVersion: 'no_stream',
      },
    );
    expect(await summarize(db.client)).toMatchObject({ rows: 1, total: 2 });

    await expect(
      store.append(id, [{ type: 'CounterIncremented', data: { by: 5 } }], { expectedVersion: 1 }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    explode = true;
    await expect(
      store.append(id, [{ type: 'CounterIncremented', data: { by: 7 } }], { expectedVersion: 2 }),
    ).rejects.toThrow('read model refused the event');
    expect(await summarize(db.client)).toMatchObject({ rows: 1, total: 2 });
    expect(await store.readStream(id)).toHaveLength(2);
  });
});
