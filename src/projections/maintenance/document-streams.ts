import { EVENT_COLUMNS } from '../../infrastructure/event-store/append-batch.js';
import type { EventRegistry } from '../../infrastructure/event-store/event-registry.js';
import type { EventMetadata, RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import { formatPosition } from '../../infrastructure/event-store/position.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

/** A document's stream id, and back. */
export const streamOf = (documentId: string) => `document-${documentId}`;
export const documentOf = (streamId: string) => streamId.replace(/^document-/, '');

/** The document streams in stream id order, `size` at a time (memory stays bounded whatever the corpus). */
export async function* documentStreamPages(on: SqlExecutor, size: number): AsyncGenerator<string[]> {
  for (let after = 'document-'; ;) {
    const { rows } = await on.query<{ id: string }>(
      `SELECT stream_id AS id FROM streams WHERE stream_id > $1 AND stream_id LIKE 'document-%'
       ORDER BY stream_id LIMIT $2`,
      [after, size],
    );
    if (rows.length === 0) return;
    yield rows.map((r) => r.id);
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Holds the streams' rows until the transaction ends: an append to one of them (which moves its row) waits, so
 * the events read in this transaction and the inline read models written with them cannot move apart. Taken in
 * stream id order, as appends take them, so that the two cannot deadlock. Returns each stream's version.
 */
export async function holdStreams(
  tx: SqlExecutor,
  streamIds: readonly string[],
): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ id: string; version: number }>(
    `SELECT stream_id AS id, version::int AS version FROM streams WHERE stream_id = ANY ($1::text[])
     ORDER BY stream_id FOR SHARE`,
    [[...streamIds]],
  );
  return new Map(rows.map((r) => [r.id, r.version]));
}

interface EventRow {
  event_id: string;
  stream_id: string;
  stream_position: string;
  tx: string;
  seq: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  created_at: Date;
}

/**
 * The events of these streams, read through `on` (the store's own readStreams reads through the pool, outside
 * the caller's transaction: on PGlite that would wait for the transaction to end). Decoded and upcast by the
 * registry, as the store does.
 */
export async function readStreamsVia(
  on: SqlExecutor,
  registry: EventRegistry,
  streamIds: readonly string[],
): Promise<Map<string, RecordedEvent[]>> {
  const byStream = new Map<string, RecordedEvent[]>();
  if (streamIds.length === 0) return byStream;
  const { rows } = await on.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ANY ($1::text[])
     ORDER BY events.stream_id, events.stream_position`,
    [[...streamIds]],
  );
  for (const row of rows) {
    const event: RecordedEvent = {
      eventId: row.event_id,
      streamId: row.stream_id,
      streamPosition: Number(row.stream_position),
      position: formatPosition({ tx: BigInt(row.tx), seq: BigInt(row.seq) }),
      type: row.type,
      data: registry.decode(row.type, row.schema_version, row.data),
      metadata: row.metadata,
      recordedAt: new Date(row.created_at),
    };
    const stream = byStream.get(row.stream_id);
    if (stream) stream.push(event);
    else byStream.set(row.stream_id, [event]);
  }
  return byStream;
}
