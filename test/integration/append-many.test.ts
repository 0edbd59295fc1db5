import { randomUUID } from 'node:crypto';
import { VersionConflictError } from '../../src/infrastructure/event-store/errors.js';
import type { AppendItem } from '../../src/infrastructure/event-store/event-store.js';
import {
  EVENTS_CHANNEL,
  PostgresEventStore,
} from '../../src/infrastructure/event-store/postgres-event-store.js';
import { counterProjection } from '../support/counter-projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';

const inc = (by: number) => ({ type: 'CounterIncremented', data: { by } });
const item = (
  streamId: string,
  expectedVersion: AppendItem['options']['expectedVersion'],
  ...by: number[]
) => ({
  streamId,
  events: by.map(inc),
  options: { expectedVersion },
});

/** EventStore.appendMany: one transaction for every item, one notification, all or nothing. */
describe.each(targets())('appendMany on %s', (kind) => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    store = new PostgresEventStore(db.client, testRegistry());
  });
  afterAll(() => db.drop());

  const count = async (sql: string, params: unknown[] = []) =>
    (await db.client.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('appends to many streams at once, each at its own version, in the items order', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await store.append(a, [inc(1)], { expectedVersion: 'no_stream' });
    const outcomes = await store.appendMany([item(a, 1, 2, 3), item(b, 'no_stream', 4), item(c, 'any', 5)]);
    expect(outcomes.map((o) => ('version' in o ? o.version : o))).toEqual([3, 1, 1]);
    const streams = await store.readStreams([a, b, c, 'none']);
    expect([...streams.keys()].sort()).toEqual([a, b, c].sort());
    expect(streams.get(a)!.map((e) => [e.streamPosition, e.data])).toEqual([
      [1, { by: 1 }],
      [2, { by: 2 }],
      [3, { by: 3 }],
    ]);
    // One transaction: every event of the batch has its transaction, positions rise in the items' order.
    const positions = [...streams.values()].flat().filter((e) => e.position !== streams.get(a)![0]!.position);
    expect(new Set(positions.map((e) => e.position.split('.')[0])).size).toBe(1);
  });

  it('appends nothing when one item expects another version: the whole batch is refused', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await store.append(a, [inc(1)], { expectedVersion: 'no_stream' });
    const before = await count('SELECT count(*)::int AS n FROM events');
    await expect(store.appendMany([item(b, 'no_stream', 1), item(a, 'no_stream', 2)])).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(await count('SELECT count(*)::int AS n FROM events')).toBe(before);
    expect(await count('SELECT count(*)::int AS n FROM streams WHERE stream_id = $1', [b])).toBe(0);
  });

  it('appends only the items that admit lets through, and reports the others as refused', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const outcomes = await store.appendMany([item(a, 'no_stream', 1), item(b, 'no_stream', 2)], {
      admit: async () => ['already there', undefined],
    });
    expect(outcomes[0]).toEqual({ refused: 'already there' });
    expect(outcomes[1]).toMatchObject({ version: 1 });
    expect((await store.readStreams([a, b])).has(a)).toBe(false);
  });

  it('replays an item by its idempotency key and appends the others', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const key = `k-${randomUUID()}`;
    const first = await store.append(a, [inc(1)], { expectedVersion: 'no_stream', idempotencyKey: key });
    const outcomes = await store.appendMany([
      { ...item(a, 'no_stream', 9), options: { expectedVersion: 'no_stream', idempotencyKey: key } },
      item(b, 'no_stream', 2),
    ]);
    expect(outcomes[0]).toEqual(first);
    expect((await store.readStream(a)).map((e) => e.data)).toEqual([{ by: 1 }]);
    expect(outcomes[1]).toMatchObject({ version: 1 });
  });

  it('applies the inline projections once with every event of the batch', async () => {
    const applied: number[] = [];
    const counting = {
      ...counterProjection(),
      apply: async (_tx: unknown, events: readonly unknown[]) => void applied.push(events.length),
    };
    const withProjection = new PostgresEventStore(db.client, testRegistry(), [counting]);
    await withProjection.appendMany([
      item(randomUUID(), 'no_stream', 1, 2),
      item(randomUUID(), 'no_stream', 3),
    ]);
    expect(applied).toEqual([3]);
  });

  it('sends one notification per batch, whatever its size', async () => {
    const session = await db.client.session();
    const payloads: string[] = [];
    const stop = await session.listen(EVENTS_CHANNEL, (p) => payloads.push(p));
    try {
      const items = Array.from({ length: 50 }, (_, i) => item(randomUUID(), 'no_stream', i));
      const outcomes = await store.appendMany(items);
      const single = await store.append(randomUUID(), [inc(1)], { expectedVersion: 'no_stream' });
      await waitFor(() => payloads.length >= 2);
      // The single append's notification comes after the batch's: the batch sent exactly one before it.
      expect(payloads).toEqual([(outcomes.at(-1) as { position: string }).position, single.position]);
    } finally {
      await stop();
      await session.release();
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
}
