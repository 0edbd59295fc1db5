import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { settledTransactions } from './horizon.js';
import type { Projection } from '../projections/projection.js';
import { constraintName, sqlState, type SqlClient, type SqlExecutor } from '../sql/sql-client.js';
import {
  appendAlone,
  appendBatch,
  appendsAlone,
  EVENT_COLUMNS,
  type BatchContext,
  type EncodedItem,
} from './append-batch.js';
import { checkBatch } from './append-limits.js';
import { findKeys, type StoredKey } from './idempotency-keys.js';
import { noAppendRecorder, type AppendRecorder } from './append-recorder.js';
import { VersionConflictError } from './errors.js';
import type { EventRegistry } from './event-registry.js';
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
} from './event-store.js';
import { formatPosition, parsePosition, START } from './position.js';

export { EVENTS_CHANNEL } from './append-batch.js';

const metadataSchema = z.object({
  actor: z.string(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  occurredAt: z.string(),
  schemaVersion: z.number().int(),
});

const eventRow = z.object({
  event_id: z.string(),
  stream_id: z.string(),
  stream_position: z.coerce.number().int(),
  tx: z.string(),
  seq: z.string(),
  type: z.string(),
  schema_version: z.number().int(),
  data: z.unknown(),
  metadata: metadataSchema,
  created_at: z.date(),
});

// Output columns shadow table columns in ORDER BY: order by `events.<column>` (the number), not the text alias.
const VISIBLE = settledTransactions('transaction_id');

export class PostgresEventStore implements EventStore {
  constructor(
    private readonly sql: SqlClient,
    private readonly registry: EventRegistry,
    private readonly inlineProjections: readonly Projection[] = [],
    private readonly now: () => Date = () => new Date(),
    /**
     * When events are recorded (`recordedAt`, what as-of reads compare with): the database's clock, one for every
     * instance; an injected clock (tests) replaces it, so that as-of reads can be tested at exact moments.
     */
    private readonly recordedAt?: () => Date,
    /** Told of every committed append (metrics). */
    private readonly recorder: AppendRecorder = noAppendRecorder,
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
    const ctx: BatchContext = {
      inlineProjections: this.inlineProjections,
      recordedAt: this.recordedAt?.().toISOString() ?? null,
      toRecorded: (row: unknown) => this.toRecorded(row),
    };
    try {
      if (appendsAlone(encoded, options, ctx)) {
        const result = await this.appendAlone(encoded[0]!, ctx);
        this.recordAppended(encoded);
        return [result];
      }
      const outcomes = await this.sql.transaction((tx) => appendBatch(tx, encoded, options, ctx));
      this.recordAppended(ctx.inserted ?? []);
      return outcomes;
    } catch (error) {
      // The streams row serialises appenders; this guard only fires if that row was bypassed.
      if (
        items.length === 1 &&
        sqlState(error) === '23505' &&
        constraintName(error) === 'events_stream_position_key'
      ) {
        const current = await this.streamVersion(items[0]!.streamId);
        throw new VersionConflictError(items[0]!.streamId, items[0]!.options.expectedVersion, current);
      }
      throw error;
    }
  }

  private recordAppended(items: readonly EncodedItem[]): void {
    if (items.length > 0) this.recorder.appended(items.flatMap((item) => item.rows.map((row) => row.type)));
  }

  /** appendAlone, its version conflict reported with the stream's version as it is now. */
  private async appendAlone(item: EncodedItem, ctx: BatchContext): Promise<AppendResult> {
    const result = await appendAlone(this.sql, item, ctx);
    if (result) return result;
    const current = await this.streamVersion(item.streamId);
    throw new VersionConflictError(item.streamId, item.options.expectedVersion, current);
  }

  private encode({ streamId, events, options }: AppendItem): EncodedItem {
    const metadata: EventMetadata = {
      actor: options.actor ?? 'system',
      correlationId: options.correlationId ?? randomUUID(),
      causationId: options.causationId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      occurredAt: (options.occurredAt ?? this.now()).toISOString(),
      schemaVersion: 0,
    };
    const rows = events.map((event) => {
      const { data, schemaVersion } = this.registry.encode(event.type, event.data);
      return {
        eventId: event.eventId ?? randomUUID(),
        type: event.type,
        schemaVersion,
        data,
        metadata: { ...metadata, schemaVersion },
      };
    });
    return { streamId, rows, options };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.sql.query(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_position >= $2 AND stream_position <= $3
         AND ($4::timestamptz IS NULL OR created_at <= $4::timestamptz)
       ORDER BY events.stream_position`,
      [
        streamId,
        options.fromVersion ?? 1,
        options.toVersion ?? Number.MAX_SAFE_INTEGER,
        options.until?.toISOString() ?? null,
      ],
    );
    return rows.map((row) => this.toRecorded(row));
  }

  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const byStream = new Map<string, RecordedEvent[]>();
    if (streamIds.length === 0) return byStream;
    const { rows } = await this.sql.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ANY ($1::text[])
       ORDER BY events.stream_id, events.stream_position`,
      [[...new Set(streamIds)]],
    );
    for (const event of rows.map((row) => this.toRecorded(row))) {
      const stream = byStream.get(event.streamId);
      if (stream) stream.push(event);
      else byStream.set(event.streamId, [event]);
    }
    return byStream;
  }

  readAll(options: ReadAllOptions, via: SqlExecutor = this.sql): Promise<ReadAllResult> {
    return readAllFrom(via, options, (row) => this.toRecorded(row));
  }

  async head({ settled = true }: { settled?: boolean } = {}): Promise<string | undefined> {
    const { rows } = await this.sql.query<{ tx: string; seq: string }>(
      `SELECT transaction_id::text AS tx, global_position::text AS seq FROM events WHERE ${settled ? VISIBLE : 'TRUE'}
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    return rows[0] ? formatPosition({ tx: BigInt(rows[0].tx), seq: BigInt(rows[0].seq) }) : undefined;
  }

  idempotencyKeys(keys: readonly string[]): Promise<Map<string, StoredKey>> {
    return findKeys(this.sql, keys);
  }

  async countAfter(position: string | undefined, cap: number): Promise<number> {
    const from = position ? parsePosition(position) : START;
    const { rows } = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM events
         WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint) AND ${VISIBLE} LIMIT $3) e`,
      [from.tx.toString(), from.seq.toString(), cap],
    );
    return rows[0]?.n ?? 0;
  }

  private async streamVersion(streamId: string): Promise<number> {
    const { rows } = await this.sql.query<{ version: number }>(
      `SELECT version::int AS version FROM streams WHERE stream_id = $1`,
      [streamId],
    );
    return rows[0]?.version ?? 0;
  }

  private toRecorded(raw: unknown): RecordedEvent {
    const row = eventRow.parse(raw);
    return {
      eventId: row.event_id,
      streamId: row.stream_id,
      streamPosition: row.stream_position,
      position: formatPosition({ tx: BigInt(row.tx), seq: BigInt(row.seq) }),
      type: row.type,
      data: this.registry.decode(row.type, row.schema_version, row.data),
      metadata: row.metadata,
      recordedAt: row.created_at,
    };
  }
}

/**
 * How many of the next events fit in `maxBytes` (at least one), read from their sizes alone. The events counted
 * are the first ones the read itself then returns: what is visible only grows at the end of the order.
 */
async function countWithin(
  via: SqlExecutor,
  where: string,
  params: string[],
  { limit, maxBytes }: ReadAllOptions,
): Promise<number> {
  const { rows } = await via.query<{ size: number }>(
    `SELECT pg_column_size(data)::int AS size FROM events WHERE ${where}
     ORDER BY transaction_id, global_position LIMIT $3`,
    [...params, limit],
  );
  let bytes = 0;
  let count = 0;
  for (const { size } of rows) {
    if (count > 0 && bytes + size > maxBytes!) break;
    bytes += size;
    count++;
  }
  return Math.max(1, count);
}

async function readAllFrom(
  via: SqlExecutor,
  options: ReadAllOptions,
  toRecorded: (row: unknown) => RecordedEvent,
): Promise<ReadAllResult> {
  const after = options.after ? parsePosition(options.after) : START;
  const where = `(transaction_id, global_position) > ($1::text::xid8, $2::bigint) AND ${options.appendsBlocked ? 'TRUE' : VISIBLE}`;
  const params = [after.tx.toString(), after.seq.toString()];
  const limit = options.maxBytes ? await countWithin(via, where, params, options) : options.limit;
  const { rows } = await via.query(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where} ORDER BY transaction_id, global_position LIMIT $3`,
    [...params, limit],
  );
  const events = rows.map(toRecorded);
  return { events, last: events.length > 0 ? events[events.length - 1]!.position : options.after };
}
