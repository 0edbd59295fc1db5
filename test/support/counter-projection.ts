import type { Projection } from '../../src/infrastructure/projections/projection.js';
import type { SqlExecutor } from '../../src/infrastructure/sql/sql-client.js';

/**
 * A read model for the projection engine's tests. `deliveries` counts every time an event reaches `apply`,
 * so an event applied twice shows up as 2 — the exactly-once checks rely on it.
 */
export function counterProjection(version = 1): Projection & { table: string } {
  const table = `test_counter_v${version}`;
  return {
    name: 'test_counter',
    version,
    table,
    handles: ['CounterIncremented'],
    async apply(tx, events) {
      const rows = events.map((e) => ({
        id: e.eventId,
        stream: e.streamId,
        by: (e.data as { by: number }).by,
        pos: e.position,
      }));
      await tx.query(
        `INSERT INTO ${table} (event_id, stream_id, amount, position, deliveries)
         SELECT (r->>'id')::uuid, r->>'stream', (r->>'by')::int, r->>'pos', 1 FROM jsonb_array_elements($1::jsonb) AS r
         ON CONFLICT (event_id) DO UPDATE SET deliveries = ${table}.deliveries + 1`,
        [JSON.stringify(rows)],
      );
    },
    async truncate(tx) {
      await ensureCounterTable(tx, table);
      await tx.query(`TRUNCATE ${table}`);
    },
  };
}

export async function ensureCounterTable(on: SqlExecutor, table = 'test_counter_v1'): Promise<void> {
  await on.query(`CREATE TABLE IF NOT EXISTS ${table} (
    event_id uuid PRIMARY KEY, stream_id text NOT NULL, amount int NOT NULL, position text NOT NULL, deliveries int NOT NULL)`);
}

export interface CounterSummary {
  rows: number;
  total: number;
  maxDeliveries: number;
  digest: string;
}

/** Everything the read model holds, reduced to numbers and an md5 over its rows in a stable order. */
export async function summarize(on: SqlExecutor, table = 'test_counter_v1'): Promise<CounterSummary> {
  const { rows } = await on.query<{
    rows: number;
    total: number | null;
    max: number | null;
    digest: string | null;
  }>(
    `SELECT count(*)::int AS rows, sum(amount)::int AS total, max(deliveries)::int AS max,
            md5(string_agg(event_id::text || ':' || stream_id || ':' || amount || ':' || position || ':' || deliveries, ',' ORDER BY event_id)) AS digest
     FROM ${table}`,
  );
  const r = rows[0]!;
  return { rows: r.rows, total: r.total ?? 0, maxDeliveries: r.max ?? 0, digest: r.digest ?? '' };
}
