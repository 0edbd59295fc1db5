import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { settledTransactions } from './horizon.js';
import { handledBy, type Projection } from '../projections/projection.js';
import { constraintName, sqlState, type SqlClient, type SqlExecutor } from '../sql/sql-client.js';
import { IdempotencyKeyReusedError, VersionConflictError, type ExpectedVersion } from './errors.js';
import type { EventRegistry } from './event-registry.js';
import type {
  AppendOptions,
  AppendResult,
  EventMetadata,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  RecordedEvent,
} from './event-store.js';
import { comparePositions, formatPosition, parsePosition, START } from './position.js';

export const EVENTS_CHANNEL = 'docsvc_events';
const MAX_STREAM_ID = 200;
const MAX_EVENTS_PER_APPEND = 10_000;

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
const EVENT_COLUMNS = `event_id::text, stream_id, stream_position::text, transaction_id::text AS tx,
  global_position::text AS seq, type, schema_version, data, metadata, created_at`;

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
  ) {}

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    if (!streamId || streamId.length > MAX_STREAM_ID)
      throw new Error(`stream id must be 1..${MAX_STREAM_ID} characters`);
    if (events.length === 0 || events.length > MAX_EVENTS_PER_APPEND) {
      throw new Error(`an append takes 1..${MAX_EVENTS_PER_APPEND} events`);
    }
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
    try {
      return await this.sql.transaction((tx) => this.appendIn(tx, streamId, rows, options));
    } catch (error) {
      // The streams row serialises appenders; this guard only fires if that row was bypassed.
      if (sqlState(error) === '23505' && constraintName(error) === 'events_stream_position_key') {
        const current = await this.streamVersion(streamId);
        throw new VersionConflictError(streamId, options.expectedVersion, current);
      }
      throw error;
    }
  }

  private async appendIn(
    tx: SqlExecutor,
    streamId: string,
    rows: Array<{
      eventId: string;
      type: string;
      schemaVersion: number;
      data: unknown;
      metadata: EventMetadata;
    }>,
    options: AppendOptions,
  ): Promise<AppendResult> {
    if (options.idempotencyKey) {
      const replay = await this.claimIdempotencyKey(tx, options.idempotencyKey, streamId);
      if (replay) return replay;
    }
    const { rows: versionRows } = await tx.query<{ version: number }>(
      `INSERT INTO streams (stream_id, version) VALUES ($1, $2)
       ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version, updated_at = now()
       RETURNING version::int AS version`,
      [streamId, rows.length],
    );
    const before = versionRows[0]!.version - rows.length;
    assertExpected(streamId, options.expectedVersion, before);
    await options.alsoWrite?.(tx);
    const inserted = await tx.query(
      `INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at)
       SELECT $1, $2 + e.ord, (e.value->>'eventId')::uuid, e.value->>'type', (e.value->>'schemaVersion')::int,
              e.value->'data', e.value->'metadata', date_trunc('milliseconds', coalesce($4::timestamptz, now()))
       FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(value, ord)
       RETURNING ${EVENT_COLUMNS}`,
      [streamId, before, JSON.stringify(rows), this.recordedAt?.().toISOString() ?? null],
    );
    const recorded = inserted.rows
      .map((row) => this.toRecorded(row))
      .sort((a, b) => a.streamPosition - b.streamPosition);
    for (const projection of this.inlineProjections) {
      const mine = handledBy(projection, recorded);
      if (mine.length > 0) await projection.apply(tx, mine);
    }
    const last = recorded.reduce((a, b) =>
      comparePositions(parsePosition(a.position), parsePosition(b.position)) >= 0 ? a : b,
    );
    const result = { version: before + rows.length, position: last.position };
    if (options.idempotencyKey) {
      await tx.query(`UPDATE idempotency_keys SET version = $2, position = $3 WHERE key = $1`, [
        options.idempotencyKey,
        result.version,
        result.position,
      ]);
    }
    await tx.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, result.position]);
    return result;
  }

  /** Claims the key, or returns the first append's result; a concurrent first append is waited for by the index. */
  private async claimIdempotencyKey(
    tx: SqlExecutor,
    key: string,
    streamId: string,
  ): Promise<AppendResult | undefined> {
    const claimed = await tx.query(
      `INSERT INTO idempotency_keys (key, stream_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
      [key, streamId],
    );
    if (claimed.rowCount === 1) return undefined;
    const { rows } = await tx.query<{ stream_id: string; version: number; position: string }>(
      `SELECT stream_id, version::int AS version, position FROM idempotency_keys WHERE key = $1`,
      [key],
    );
    const first = rows[0]!;
    if (first.stream_id !== streamId) throw new IdempotencyKeyReusedError(key, first.stream_id, streamId);
    return { version: first.version, position: first.position };
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

  readAll(options: ReadAllOptions, via: SqlExecutor = this.sql): Promise<ReadAllResult> {
    return readAllFrom(via, options, (row) => this.toRecorded(row));
  }

  async head(): Promise<string | undefined> {
    const { rows } = await this.sql.query<{ tx: string; seq: string }>(
      `SELECT transaction_id::text AS tx, global_position::text AS seq FROM events WHERE ${VISIBLE}
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    return rows[0] ? formatPosition({ tx: BigInt(rows[0].tx), seq: BigInt(rows[0].seq) }) : undefined;
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

function assertExpected(streamId: string, expected: ExpectedVersion, actual: number): void {
  const ok = expected === 'any' || (expected === 'no_stream' ? actual === 0 : actual === expected);
  if (!ok) throw new VersionConflictError(streamId, expected, actual);
}

async function readAllFrom(
  via: SqlExecutor,
  options: ReadAllOptions,
  toRecorded: (row: unknown) => RecordedEvent,
): Promise<ReadAllResult> {
  const after = options.after ? parsePosition(options.after) : START;
  const { rows } = await via.query(
    `SELECT ${EVENT_COLUMNS} FROM events
     WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint) AND ${options.appendsBlocked ? 'TRUE' : VISIBLE}
     ORDER BY transaction_id, global_position
     LIMIT $3`,
    [after.tx.toString(), after.seq.toString(), options.limit],
  );
  const events = rows.map(toRecorded);
  return { events, last: events.length > 0 ? events[events.length - 1]!.position : options.after };
}
