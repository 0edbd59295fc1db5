import { randomUUID } from 'node:crypto';
import type { EventStoreDBClient } from '@eventstore/db-client';
import type { SqlClient, SqlExecutor } from '../../sql/sql-client.js';
import { admitAndWrite } from '../append-batch.js';
import { checkBatch } from '../append-limits.js';
import type { AppendRecorder } from '../append-recorder.js';
import type { EventRegistry } from '../event-registry.js';
import type {
  AppendItem,
  AppendManyOptions,
  AppendOptions,
  AppendOutcome,
  AppendResult,
  EventMetadata,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  RecordedEvent,
} from '../event-store.js';
import { comparePositions, parsePosition } from '../position.js';
import { claimKey, findKeys, recordKeyResult, type StoredKey } from '../idempotency-keys.js';
import { appendToServer, type EncodedEvent } from './esdb-appends.js';
import { deterministicEventId } from './esdb-mapping.js';
import { countAfter, lastPosition, readAllPaged, readStreamPaged } from './esdb-reads.js';
import { watchAll } from './esdb-watch.js';

export interface EsdbStoreOptions {
  /** When a command happened, when the caller gives no time. */
  now?: () => Date;
  /** Stamps `recordedAt` in each event's metadata (tests' injected clock); otherwise the server's time counts. */
  recordedAt?: () => Date;
  recorder?: AppendRecorder;
  /** Awaited after every append that wrote, with its last position and its events' types: read-your-writes. */
  afterAppend?: (position: string, types: ReadonlySet<string>) => Promise<void>;
}

/**
 * The event store port on EventStoreDB / KurrentDB through `@eventstore/db-client` (docs/eventstoredb.md). Events
 * live in the server; idempotency keys, and whatever an append's hooks write (keys, files), live in PostgreSQL,
 * in one transaction that commits before any event is sent: an append that then fails leaves rows no event
 * refers to, which maintenance removes, never an event whose key or file is missing. The server appends to one
 * stream atomically, never to several: a batch's streams are appended one after the other, in order.
 */
export class EsdbEventStore implements EventStore {
  private readonly local = new Set<() => void>();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly sql: SqlClient,
    private readonly registry: EventRegistry,
    private readonly options: EsdbStoreOptions = {},
  ) {}

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const [outcome] = await this.appendMany([{ streamId, events, options }]);
    return outcome as AppendResult;
  }

  async appendMany<R = unknown>(
    items: readonly AppendItem[],
    options: AppendManyOptions<R> = {},
  ): Promise<Array<AppendOutcome<R>>> {
    checkBatch(items);
    const encoded = items.map((item) => this.encode(item));
    const outcomes = await this.beforeAppend(items, options);
    let last: string | undefined;
    const types = new Set<string>();
    for (const [i, item] of items.entries()) {
      if (outcomes[i] !== undefined) continue;
      const key = item.options.idempotencyKey;
      const result = await appendToServer(
        this.client,
        item.streamId,
        encoded[i]!,
        item.options.expectedVersion,
        !!key,
      );
      if (key) await recordKeyResult(this.sql, key, result);
      this.options.recorder?.appended(encoded[i]!.map((e) => e.type));
      for (const e of encoded[i]!) types.add(e.type);
      outcomes[i] = result;
      if (!last || comparePositions(parsePosition(result.position), parsePosition(last)) > 0)
        last = result.position;
    }
    if (last) {
      for (const wake of this.local) wake();
      await this.options.afterAppend?.(last, types);
    }
    return outcomes as Array<AppendOutcome<R>>;
  }

  /** The PostgreSQL part, committed first: admission, idempotency keys (first answers), then the hooks' writes. */
  private async beforeAppend<R>(
    items: readonly AppendItem[],
    options: AppendManyOptions<R>,
  ): Promise<Array<AppendOutcome<R> | undefined>> {
    const needed =
      options.admit ||
      options.alsoWrite ||
      items.some((i) => i.options.alsoWrite || i.options.idempotencyKey);
    if (!needed) return items.map(() => undefined);
    return this.sql.transaction(
      async (tx) => (await admitAndWrite(tx, items, options, claimResult)).outcomes,
    );
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return readStreamPaged(this.client, this.registry, streamId, options);
  }

  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const byStream = new Map<string, RecordedEvent[]>();
    for (const id of new Set(streamIds)) {
      const events = await this.readStream(id);
      if (events.length > 0) byStream.set(id, events);
    }
    return byStream;
  }

  /** `$all` holds only committed events in commit order: no late commit can land behind a reader. */
  readAll(options: ReadAllOptions, _via?: SqlExecutor): Promise<ReadAllResult> {
    return readAllPaged(this.client, this.registry, options);
  }

  /** `$all` holds committed events only: the settled and the committed head are one. */
  head(): Promise<string | undefined> {
    return lastPosition(this.client);
  }

  idempotencyKeys(keys: readonly string[]): Promise<Map<string, StoredKey>> {
    return findKeys(this.sql, keys);
  }

  countAfter(position: string | undefined, cap: number): Promise<number> {
    return countAfter(this.client, position, cap);
  }

  /** This process's appends wake at once; other processes' through the live subscription. */
  watch(wake: () => void): () => Promise<void> {
    this.local.add(wake);
    const unsubscribe = watchAll(this.client, wake);
    return async () => {
      this.local.delete(wake);
      await unsubscribe();
    };
  }

  private encode({ streamId, events, options }: AppendItem): EncodedEvent[] {
    const base: Omit<EventMetadata, 'schemaVersion'> = {
      actor: options.actor ?? 'system',
      correlationId: options.correlationId ?? randomUUID(),
      causationId: options.causationId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      occurredAt: (options.occurredAt ?? this.options.now?.() ?? new Date()).toISOString(),
    };
    const recordedAt = this.options.recordedAt?.().toISOString();
    return events.map((event, i) => {
      const { data, schemaVersion } = this.registry.encode(event.type, event.data);
      const eventId =
        event.eventId ??
        (options.idempotencyKey ? deterministicEventId(options.idempotencyKey, streamId, i) : randomUUID());
      const metadata = { ...base, schemaVersion, ...(recordedAt && { recordedAt }) };
      return { eventId, type: event.type, data, metadata };
    });
  }
}

/**
 * A used key's first result. A claim without one is an append under way or one that crashed: going on is safe, as
 * the event ids derived from the key make the server answer a repeat with the first write.
 */
const claimResult = async (...claim: Parameters<typeof claimKey>) => (await claimKey(...claim))?.result;
