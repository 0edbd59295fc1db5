import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import { Child } from '../support/child.js';
import { counterProjection, summarize } from '../support/counter-projection.js';
import { openTestDatabase, reopen, targets, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';

const EVENTS = 10_000;

/** 10,000 counter events in 1,000 appends of 10, the amounts numbered so that the total is known. */
async function seed(store: PostgresEventStore): Promise<number> {
  let total = 0;
  let n = 0;
  for (let s = 0; s < EVENTS / 10; s++) {
    const events = Array.from({ length: 10 }, () => ({ type: 'CounterIncremented', data: { by: ++n } }));
    total += events.reduce((sum, e) => sum + e.data.by, 0);
    await store.append(`counter-${s}`, events, { expectedVersion: 'no_stream' });
  }
  return total;
}

/** PGlite on disk belongs to one process at a time: the parent lets go while children run. */
async function handOver(db: TestDatabase): Promise<void> {
  if (db.kind === 'pglite') await db.close();
}

describe.each(targets())('projector processes on %s', (kind) => {
  let db: TestDatabase;
  const children: Child[] = [];
  const start = (env: Record<string, string> = {}) => {
    const child = Child.start('projector-child.ts', { ...db.env, BATCH_SIZE: '100', ...env });
    children.push(child);
    return child;
  };
  beforeEach(async () => (db = await openTestDatabase(kind, { onDisk: true })));
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill()));
    await db.drop();
  });

  it('recovers from SIGKILL in the middle of a 10,000-event catch-up with every event applied once', async () => {
    const store = new PostgresEventStore(db.client, testRegistry());
    const total = await seed(store);
    const head = await store.head();
    await handOver(db);

    const first = start();
    await first.waitFor(
      (l) =>
        l.kind === 'batch' &&
        children.length > 0 &&
        first.lines.filter((x) => x.kind === 'batch').length >= 20,
    );
    await first.kill('SIGKILL');
    const batchesBeforeKill = first.lines.filter((l) => l.kind === 'batch').length;
    expect(batchesBeforeKill).toBeLessThan(EVENTS / 100);

    const second = start();
    await second.waitFor((l) => l.kind === 'idle' && l.position === head, 120_000);
    await second.kill('SIGTERM');
    await reopen(db);

    const recovered = await summarize(db.client);
    expect(recovered).toMatchObject({ rows: EVENTS, total, maxDeliveries: 1 });

    // A clean rebuild of the same events gives the same read model, row for row.
    const engine = new ProjectionEngine(
      db.client,
      new PostgresEventStore(db.client, testRegistry()),
      [],
      [counterProjection()],
      {
        batchSize: 1000,
        pollMs: 50,
        standbyRetryMs: 50,
      },
    );
    engine.start();
    try {
      await engine.requestRebuild('test_counter');
      await waitFor(
        async () =>
          (await db.client.query<{ r: number }>(`SELECT rebuilds AS r FROM projection_checkpoints`)).rows[0]
            ?.r === 1,
      );
      expect(await engine.waitUntilCaughtUp({ timeoutMs: 120_000 })).toBe(true);
    } finally {
      await engine.stop();
    }
    expect(await summarize(db.client)).toEqual(recovered);
  }, 240_000);

  it('keeps one projector active across processes; another takes over when it is killed', async () => {
    const store = new PostgresEventStore(db.client, testRegistry());
    await store.append(`c-${randomUUID()}`, [{ type: 'CounterIncremented', data: { by: 1 } }], {
      expectedVersion: 'no_stream',
    });
    await handOver(db);

    const first = start();
    await first.waitFor((l) => l.kind === 'state' && l.state === 'active');
    const second = start();
    if (kind === 'postgres') {
      await second.waitFor((l) => l.kind === 'state' && l.state === 'standby');
    } else {
      // The embedded database cannot be shared: the second process is refused with a clear error.
      const refused = await second.waitFor((l) => l.kind === 'fatal');
      expect(refused.code).toBe('DATA_DIR_LOCKED');
      expect(String(refused.message)).toMatch(/in use by another docsvc process/);
    }
    expect(first.lines.some((l) => l.kind === 'state' && l.state === 'standby')).toBe(false);

    await first.kill('SIGKILL');
    const successor = kind === 'postgres' ? second : start();
    await successor.waitFor((l) => l.kind === 'state' && l.state === 'active', 30_000);
    if (kind === 'postgres') {
      const { position } = await store.append(
        `c-${randomUUID()}`,
        [{ type: 'CounterIncremented', data: { by: 2 } }],
        { expectedVersion: 'no_stream' },
      );
      await successor.waitFor((l) => l.kind === 'idle' && l.position === position);
    } else {
      await successor.waitFor((l) => l.kind === 'idle');
    }
    await successor.kill('SIGTERM');
    await reopen(db);
    expect(await summarize(db.client)).toMatchObject({ rows: kind === 'postgres' ? 2 : 1, maxDeliveries: 1 });
  }, 120_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
