import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { comparePositions, parsePosition } from '../../src/infrastructure/event-store/position.js';
import { checkpoints } from '../../src/infrastructure/projections/checkpoints.js';
import { Projector, type ProjectorEvent } from '../../src/infrastructure/projections/projector.js';
import type { SqlClient } from '../../src/infrastructure/sql/sql-client.js';
import { counterProjection } from '../support/counter-projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';

/** A client whose transactions, once their work is done, wait for `release()` before they commit. */
function gated(inner: SqlClient): { client: SqlClient; inserted: Promise<void>; release: () => void } {
  let release!: () => void;
  let markInserted!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const inserted = new Promise<void>((resolve) => (markInserted = resolve));
  const client: SqlClient = Object.create(inner) as SqlClient;
  client.transaction = (fn) =>
    inner.transaction(async (tx) => {
      const result = await fn(tx);
      markInserted();
      await gate;
      return result;
    });
  return { client, inserted, release };
}

const inc = (by: number) => [{ type: 'CounterIncremented', data: { by } }];

describe.each(targets())('a transaction that commits late, on %s', (kind) => {
  let db: TestDatabase;
  beforeEach(async () => (db = await openTestDatabase(kind)));
  afterEach(() => db.drop());

  it('is never passed by the projector, and every event is applied exactly once after it commits', async () => {
    const store = new PostgresEventStore(db.client, testRegistry());
    const projection = counterProjection();
    const events: ProjectorEvent[] = [];
    const projector = new Projector(db.client, store, projection, {
      batchSize: 100,
      pollMs: 20,
      standbyRetryMs: 20,
      onEvent: (e) => events.push(e),
    });
    const early = await store.append('early', inc(1), { expectedVersion: 'no_stream' });
    projector.start();
    let release = () => {};
    const finished: string[] = [];
    try {
      await until(() => events.some((e) => e.kind === 'idle' && e.position === early.position));

      // A takes its sequence number first and stays open; B and C take later numbers.
      const mark = events.length;
      const a = gated(db.client);
      release = a.release;
      // A hook keeps A's append in a transaction (a hookless one is a statement of its own), which the gate holds.
      const appendA = new PostgresEventStore(a.client, testRegistry()).append('A', inc(10), {
        expectedVersion: 'no_stream',
        alsoWrite: async () => undefined,
      });
      await a.inserted;
      const appendB = store.append('B', inc(100), { expectedVersion: 'no_stream' });
      const appendC = store.append('C', inc(1000), { expectedVersion: 'no_stream' });

      if (kind === 'postgres') {
        // B and C commit while A is open. The projector runs (NOTIFY wakes it) yet must not pass A.
        const [b, c] = await Promise.all([appendB, appendC]);
        const idleSince = events.length;
        await until(() => events.slice(idleSince).filter((e) => e.kind === 'idle').length >= 3);
        const checkpoint = await checkpoints.read(db.client, projection);
        expect(checkpoint?.position).toBe(early.position);
        expect(comparePositions(parsePosition(b.position), parsePosition(early.position))).toBe(1);
        expect(comparePositions(parsePosition(c.position), parsePosition(early.position))).toBe(1);
      } else {
        // PGlite is one engine with one session: a transaction holds that session until it ends, so B, C and the
        // projector's reads queue behind A instead of running beside it. A cannot commit late relative to anything
        // here; what can be asserted is that nothing overtakes it: no batch before A commits, and A's append
        // completes first. (No timing: the order is the assertion.)
        for (const [name, append] of [
          ['B', appendB],
          ['C', appendC],
        ] as const)
          void append.then(() => finished.push(name));
        for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(finished).toEqual([]);
        expect(events.slice(mark).filter((e) => e.kind === 'batch')).toHaveLength(0);
      }
      void appendA.then(() => finished.push('A'));
      a.release();
      const [ra] = await Promise.all([appendA, appendB, appendC]);
      if (kind === 'pglite') expect(finished[0]).toBe('A');
      await until(() =>
        events.some(
          (e) =>
            e.kind === 'batch' &&
            comparePositions(parsePosition(e.position), parsePosition(ra.position)) >= 0,
        ),
      );
      const { rows } = await db.client.query<{ amount: number; deliveries: number }>(
        `SELECT amount, deliveries FROM ${projection.name}_v1 ORDER BY amount`,
      );
      expect(rows).toEqual([1, 10, 100, 1000].map((amount) => ({ amount, deliveries: 1 })));
      await until(
        async () => (await checkpoints.read(db.client, projection))?.position === (await store.head()),
      );
    } finally {
      release();
      await projector.stop();
    }
  });
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
