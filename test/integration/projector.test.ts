import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { checkpoints } from '../../src/infrastructure/projections/checkpoints.js';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import { Projector, type ProjectorEvent } from '../../src/infrastructure/projections/projector.js';
import type { Projection } from '../../src/infrastructure/projections/projection.js';
import { counterProjection, ensureCounterTable, summarize } from '../support/counter-projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';

const options = { batchSize: 7, pollMs: 30, standbyRetryMs: 30 };

/**
 * The position of the last event appended: a test waits for its own writes by position. The head of the log is
 * not enough: it names the last *settled* event, and the last append may settle only after the head was read
 * (while a transaction that began before it, such as the projector's own, is still open).
 */
let lastAppended: string | undefined;

async function appendMany(store: PostgresEventStore, streams: number, perStream: number): Promise<number> {
  let total = 0;
  for (let s = 0; s < streams; s++) {
    const id = `counter-${randomUUID()}`;
    const events = Array.from({ length: perStream }, (_, i) => ({
      type: 'CounterIncremented',
      data: { by: i + 1 },
    }));
    await store.append(id, events, { expectedVersion: 'no_stream' });
    const { position } = await store.append(
      id,
      [{ type: 'NoteAdded', data: { text: 'not for the counter' } }],
      {
        expectedVersion: perStream,
      },
    );
    lastAppended = position;
    total += perStream;
  }
  return total;
}

describe.each(targets())('projection engine on %s', (kind) => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  const engines: ProjectionEngine[] = [];
  const engine = (projections: Projection[]) => {
    const e = new ProjectionEngine(db.client, store, [], projections, options);
    engines.push(e);
    return e;
  };

  beforeEach(async () => {
    db = await openTestDatabase(kind);
    store = new PostgresEventStore(db.client, testRegistry());
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
    await db.drop();
  });

  it('applies every event exactly once, in batches, and follows new appends', async () => {
    const before = await appendMany(store, 10, 5);
    const e = engine([counterProjection()]);
    e.start();
    expect(await e.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 })).toBe(true);
    const after = await appendMany(store, 3, 4);
    expect(await e.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 })).toBe(true);
    const summary = await summarize(db.client);
    expect(summary.rows).toBe(before + after);
    expect(summary.maxDeliveries).toBe(1);
    expect(summary.total).toBe(10 * 15 + 3 * 10);
    // Going live is the projector's next transaction once it finds nothing more to read, after the catch-up.
    await waitFor(async () => (await e.status())[0]?.status === 'live');
    const [status] = await e.status();
    expect(status).toMatchObject({
      name: 'test_counter',
      kind: 'async',
      lag: 0,
      status: 'live',
      projector: 'active',
    });
  });

  it('rebuilds to the same read model, and a rebuild survives being requested mid-stream', async () => {
    await appendMany(store, 20, 3);
    const e = engine([counterProjection()]);
    e.start();
    await e.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 });
    const live = await summarize(db.client);
    await e.requestRebuild('test_counter');
    await appendMany(store, 2, 2);
    await waitFor(
      async () => (await checkpoints.read(db.client, counterProjection()))?.rebuildRequested === false,
    );
    expect(await e.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 })).toBe(true);
    const rebuilt = await summarize(db.client);
    expect(rebuilt.rows).toBe(live.rows + 4);
    expect(rebuilt.maxDeliveries).toBe(1);
    const { rows } = await db.client.query<{ rebuilds: number }>(
      `SELECT rebuilds FROM projection_checkpoints WHERE name = 'test_counter'`,
    );
    expect(rows[0]!.rebuilds).toBe(1);
    await expect(e.requestRebuild('nope')).rejects.toThrow(/no projection is named nope/);
  });

  it('builds a new version beside the live one, which takes over and retires the old', async () => {
    await appendMany(store, 5, 3);
    const v1 = engine([counterProjection(1)]);
    v1.start();
    await v1.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 });
    const v2 = engine([counterProjection(2)]);
    v2.start();
    expect(await v2.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 })).toBe(true);
    await waitFor(async () => (await checkpoints.read(db.client, counterProjection(2)))?.status === 'live');
    expect((await checkpoints.read(db.client, counterProjection(1)))?.status).toBe('retired');
    const one = await summarize(db.client, 'test_counter_v1');
    const two = await summarize(db.client, 'test_counter_v2');
    expect(two.digest).toBe(one.digest);
  });

  it('retries a failing batch without skipping any event', async () => {
    await appendMany(store, 4, 3);
    const base = counterProjection();
    let failuresLeft = 3;
    const flaky: Projection = {
      ...base,
      async apply(tx, events) {
        await base.apply(tx, events);
        if (failuresLeft-- > 0) throw new Error('embedding provider unavailable');
      },
    };
    const seen: ProjectorEvent[] = [];
    const projector = new Projector(db.client, store, flaky, { ...options, onEvent: (ev) => seen.push(ev) });
    projector.start();
    try {
      await waitFor(
        async () =>
          (await summarize(db.client).catch(() => undefined))?.rows === 12 &&
          seen.some((s) => s.kind === 'idle'),
      );
      expect((await summarize(db.client)).maxDeliveries).toBe(1);
      const errors = seen.filter((s) => s.kind === 'error');
      expect(errors.map((e) => (e as { error: Error }).error.message)).toEqual(
        Array(3).fill('embedding provider unavailable'),
      );
      // Recovered: the last error is cleared, so that readiness stops reporting the projection as failing.
      expect(projector.lastError).toBeUndefined();
    } finally {
      await projector.stop();
    }
  });

  it('keeps one active projector per projection; a standby takes over when it stops', async () => {
    await ensureCounterTable(db.client);
    const first = engine([counterProjection()]);
    first.start();
    await waitFor(async () => (await first.status())[0]!.projector === 'active');
    const second = engine([counterProjection()]);
    second.start();
    await waitFor(async () => (await second.status())[0]!.projector === 'standby');
    await appendMany(store, 2, 2);
    expect(await first.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 })).toBe(true);
    await first.stop();
    await waitFor(async () => (await second.status())[0]!.projector === 'active');
    await appendMany(store, 2, 2);
    expect(await second.waitUntilCaughtUp({ position: lastAppended, timeoutMs: 30_000 })).toBe(true);
    expect(await summarize(db.client)).toMatchObject({ rows: 8, maxDeliveries: 1 });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
