import { randomUUID } from 'node:crypto';
import {
  ANY,
  BACKWARDS,
  END,
  jsonEvent,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type EventStoreDBClient,
} from '@eventstore/db-client';
import type { SqlClient, SqlExecutor } from '../../sql/sql-client.js';
import { IdempotencyKeyReusedError, VersionConflictError } from '../errors.js';
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
import { deterministicEventId, expectedRevision, toPosition, versionOf } from './esdb-mapping.js';
import { eachEvent, lastPosition, readAllPaged, readStreamPaged } from './esdb-reads.js';

/** How far back a retried append looks for its own events (written by a concurrent retry with the same key). */
const TAIL = 100;
const MAX_ATTEMPTS = 5;

interface Encoded {
  eventId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/**
 * The event store port on EventStoreDB / KurrentDB through `@eventstore/db-client` (docs/eventstoredb.md). Events
 * live in the server; idempotency keys, and whatever an append's hooks write (keys, files), live in PostgreSQL.
 * Every append carries an exact expected revision and, with an idempotency key, ids derived from it: the server
 * answers a re-sent append at the same revision with the first result and writes nothing (it deduplicates
 * reliably only so). A hook's writes commit before the append: an append that then fails leaves rows that no event
 * refers to, which maintenance removes; never an event whose key or file is missing.
 */
export class EsdbEventStore implements EventStore {
  constructor(
    private readonly client: EventStoreDBClient,
    private readonly sql: SqlClient,
    private readonly registry: EventRegistry,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const encoded = this.encode(streamId, events, options);
    const key = options.idempotencyKey;
    if (key) {
      const first = await claimKey(this.sql, key, streamId);
      if (first) return first;
    }
    if (options.alsoWrite) await this.sql.transaction((tx) => options.alsoWrite!(tx));
    const result = await this.appendWithRetry(streamId, encoded, options);
    if (key)
      await this.sql.query(`UPDATE idempotency_keys SET version = $2, position = $3 WHERE key = $1`, [
        key,
        result.version,
        result.position,
      ]);
    return result;
  }

  /** One stream per call: EventStoreDB appends to one stream atomically, never to several. */
  async appendMany<R = unknown>(
    items: readonly AppendItem[],
    options: AppendManyOptions<R> = {},
  ): Promise<Array<AppendOutcome<R>>> {
    if (items.length !== 1 || options.admit || options.alsoWrite)
      throw new Error('the EventStoreDB adapter appends to one stream at a time, without batch hooks');
    const [item] = items;
    return [await this.append(item!.streamId, item!.events, item!.options)];
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
    return readAllPaged(this.client, this.registry, options.after, options.limit);
  }

  head(): Promise<string | undefined> {
    return lastPosition(this.client);
  }

  private async appendWithRetry(
    streamId: string,
    encoded: Encoded[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    const events = encoded.map((e) =>
      jsonEvent({ id: e.eventId, type: e.type, data: e.data as never, metadata: e.metadata as never }),
    );
    // With a key and no expected version, the append still needs one for the server to deduplicate a retry.
    const keyed = options.expectedVersion === 'any' && Boolean(options.idempotencyKey);
    for (let attempt = 1; ; attempt++) {
      let expected = options.expectedVersion;
      if (keyed) {
        const tail = await this.tail(streamId, encoded[0]!.eventId);
        if (tail.written) return tail.written;
        expected = tail.version;
      }
      try {
        const result = await this.client.appendToStream(streamId, events, {
          expectedRevision: expected === 'any' ? ANY : expectedRevision(expected),
        });
        return { version: versionOf(result.nextExpectedRevision), position: toPosition(result.position!) };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (keyed && attempt < MAX_ATTEMPTS) continue;
        throw new VersionConflictError(
          streamId,
          options.expectedVersion,
          versionOf(error.actualVersion as bigint | 'no_stream'),
        );
      }
    }
  }

  /** The stream's version, and this append's result if a concurrent retry has written its first event already. */
  private async tail(
    streamId: string,
    firstId: string,
  ): Promise<{ version: number; written?: AppendResult }> {
    const recent: Array<{ id: string; version: number; position: string }> = [];
    try {
      await eachEvent(
        this.client.readStream(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: TAIL }),
        ({ event }) => {
          recent.unshift({
            id: event!.id,
            version: versionOf(event!.revision),
            position: toPosition(event!.position!),
          });
          return true;
        },
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return { version: 0 };
      throw error;
    }
    const version = recent.at(-1)?.version ?? 0;
    const at = recent.findIndex((e) => e.id === firstId);
    if (at === -1) return { version };
    // Its events are the ones from there on that carry ids of the same append; the last of them is its result.
    return { version, written: { version: recent.at(-1)!.version, position: recent.at(-1)!.position } };
  }

  private encode(streamId: string, events: readonly NewEvent[], options: AppendOptions): Encoded[] {
    const base: Omit<EventMetadata, 'schemaVersion'> = {
      actor: options.actor ?? 'system',
      correlationId: options.correlationId ?? randomUUID(),
      causationId: options.causationId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      occurredAt: (options.occurredAt ?? this.now()).toISOString(),
    };
    return events.map((event, i) => {
      const { data, schemaVersion } = this.registry.encode(event.type, event.data);
      const eventId =
        event.eventId ??
        (options.idempotencyKey ? deterministicEventId(options.idempotencyKey, streamId, i) : randomUUID());
      return { eventId, type: event.type, data, metadata: { ...base, schemaVersion } };
    });
  }
}

/** Claims the key for this stream, or returns the first append's result when it completed. */
async function claimKey(sql: SqlClient, key: string, streamId: string): Promise<AppendResult | undefined> {
  await sql.query(
    `INSERT INTO idempotency_keys (key, stream_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
    [key, streamId],
  );
  const { rows } = await sql.query<{ stream_id: string; version: number | null; position: string | null }>(
    `SELECT stream_id, version::int AS version, position FROM idempotency_keys WHERE key = $1`,
    [key],
  );
  const first = rows[0]!;
  if (first.stream_id !== streamId) throw new IdempotencyKeyReusedError(key, first.stream_id, streamId);
  // A claim without a result is an append under way or one that crashed: going on is safe, as the event ids
  // derived from the key make the server answer a repeat with the first write.
  return first.version !== null && first.position !== null
    ? { version: first.version, position: first.position }
    : undefined;
}
