import { EventStoreDBClient } from '@eventstore/db-client';
import type { Clock } from '../clock/clock.js';
import type { AppConfig } from '../config/config.js';
import { checkpoints } from '../projections/checkpoints.js';
import type { AsyncProjection, Projection } from '../projections/projection.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { AppendRecorder } from './append-recorder.js';
import { everySettled, settledTransactions, type SettledCondition } from './horizon.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import type { EventRegistry } from './event-registry.js';
import type { EventStore } from './event-store.js';
import { PostgresEventStore } from './postgres-event-store.js';

export interface StoreParts {
  config: AppConfig;
  sql: SqlClient;
  registry: EventRegistry;
  clock: Clock;
  /** A test's clock, which also stamps when events are recorded. */
  injected?: Clock;
  appends: AppendRecorder;
  projections: { inline: Projection[]; async: AsyncProjection[] };
}

export interface OpenedStore {
  store: EventStore;
  /** The projections applied in the append's transaction, and those run by projectors. */
  inline: Projection[];
  async: AsyncProjection[];
  /** What a reader of the inline read models' positions keeps to (horizon.ts). */
  settled: SettledCondition;
  close(): Promise<void>;
}

/**
 * The event store EVENT_STORE names. With EventStoreDB no append shares a transaction with PostgreSQL, so the
 * inline read models (documents, versions) are run by projectors like the others, and every write waits (up to
 * EVENTSTORE_READ_MODEL_WAIT_MS) until they have applied it: a client still reads its own write.
 */
export function openEventStore(parts: StoreParts): OpenedStore {
  const { config, sql, registry, clock, injected, appends, projections } = parts;
  if (config.EVENT_STORE === 'postgres') {
    const now = () => clock.now();
    const recordedAt = injected && (() => injected.now());
    const store = new PostgresEventStore(sql, registry, projections.inline, now, recordedAt, appends);
    return { store, ...projections, settled: settledTransactions, close: async () => undefined };
  }
  const client = EventStoreDBClient.connectionString(config.EVENTSTORE_CONNECTION_STRING!);
  const readModels = projections.inline;
  const store = new EsdbEventStore(client, sql, registry, {
    now: () => clock.now(),
    ...(injected && { recordedAt: () => injected.now() }),
    recorder: appends,
    // Only for events the read models apply: an append of others (a source's reservation) can be made while
    // a transaction is open, and on PGlite's one session a wait for a projector there would wait for itself.
    afterAppend: async (position, types) => {
      const waitingFor = readModels.filter((p) => p.handles.some((t) => types.has(t)));
      if (waitingFor.length > 0)
        await checkpoints.waitFor(sql, waitingFor, position, config.EVENTSTORE_READ_MODEL_WAIT_MS);
    },
  });
  return {
    store,
    inline: [],
    async: [...readModels, ...projections.async],
    settled: everySettled,
    close: () => client.dispose(),
  };
}
