import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import type { ProjectorEvent } from '../../src/infrastructure/projections/projector.js';
import {
  ANALYZE_FIRST_ROWS,
  ANALYZE_MIN_ROWS,
  ANALYZE_SHARE,
  analyzeStaleTables,
} from '../../src/infrastructure/projections/table-statistics.js';
import { counterProjection } from '../support/counter-projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';

describe.each(targets())('the service analyzes what it loads (%s)', (kind) => {
  let db: TestDatabase;
  beforeEach(async () => (db = await openTestDatabase(kind)));
  afterEach(() => db?.drop());

  /** Whether the planner has column statistics of `table` (only ANALYZE makes them). */
  const analyzed = async (table: string) =>
    (
      await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stats WHERE tablename = $1', [
        table,
      ])
    ).rows[0]!.n > 0;
  const addDocuments = (n: number) =>
    db.client.query(
      `INSERT INTO documents (document_id, coach_id, status, version, created_at, created_by, updated_at,
         updated_by, position)
       SELECT gen_random_uuid(), 'coach', 'active', 1, now(), 'x', now(), 'x', '1.' || i
       FROM generate_series(1, $1::int) i`,
      [n],
    );

  it('analyzes a table loaded from nothing while loading, then again once it has grown enough', async () => {
    await addDocuments(ANALYZE_FIRST_ROWS - 1);
    expect(await analyzeStaleTables(db.client, false)).toEqual([]);
    await addDocuments(1);
    expect(await analyzeStaleTables(db.client, false)).toEqual(['documents']);
    expect(await analyzed('documents')).toBe(true);
    // Analyzed once: while loading, it is not analyzed again.
    const due = ANALYZE_MIN_ROWS + ANALYZE_SHARE * ANALYZE_FIRST_ROWS;
    await addDocuments(due);
    expect(await analyzeStaleTables(db.client, false)).toEqual([]);
    // Caught up, it is once more than the minimum plus the share of its rows have changed.
    expect(await analyzeStaleTables(db.client, true)).toEqual([]);
    await addDocuments(1);
    expect(await analyzeStaleTables(db.client, true)).toEqual(['documents']);
    expect(await analyzeStaleTables(db.client, true)).toEqual([]);
  });

  it("analyzes the tables a projector's catch-up loaded before it reports being idle", async () => {
    const store = new PostgresEventStore(db.client, testRegistry());
    for (let s = 0; s < 3; s++)
      await store.append(
        `counter-${randomUUID()}`,
        Array.from({ length: 500 }, (_, i) => ({ type: 'CounterIncremented', data: { by: i + 1 } })),
        { expectedVersion: 'no_stream' },
      );
    const projection = counterProjection();
    let idle!: () => void;
    const caughtUp = new Promise<void>((resolve) => (idle = resolve));
    const reported: string[] = [];
    const onEvent = (e: ProjectorEvent) => {
      if (e.kind === 'analyzed') reported.push(...e.tables);
      if (e.kind === 'idle' && e.position) idle();
    };
    const engine = new ProjectionEngine(db.client, store, [], [projection], {
      batchSize: 200,
      pollMs: 60_000,
      standbyRetryMs: 60_000,
      onEvent,
    });
    engine.start();
    await caughtUp;
    await engine.stop();
    // The table its batches wrote. (Tables written by other sessions, as `events` by the appends, are analyzed
    // once those sessions' counts have reached the shared statistics, within ten seconds: at a later check.)
    expect(await analyzed(projection.table)).toBe(true);
    // And says so (the service logs it: the ANALYZE held the projector's session meanwhile).
    expect(reported).toContain(projection.table);
  });
});
