import type { SqlClient } from '../sql/sql-client.js';
import type { StoredEvent } from './backup-format.js';

const MAX_EVENTS = 500;
const MAX_BYTES = 8 * 1024 * 1024;

/**
 * Loads backed-up events into the store in their global order, a batch per transaction. Each keeps its id,
 * stream, stream position, type, schema version, payload, metadata and time; its position is handed out by the
 * target (positions are the store's own: a transaction id and a sequence number), in the same order.
 */
export class EventLoader {
  private batch: StoredEvent[] = [];
  private bytes = 0;
  count = 0;

  constructor(private readonly sql: SqlClient) {}

  async add(event: StoredEvent): Promise<void> {
    this.batch.push(event);
    this.bytes += JSON.stringify(event.data).length;
  }

  async flushIfFull(): Promise<void> {
    if (this.batch.length >= MAX_EVENTS || this.bytes >= MAX_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const rows = this.batch.map((e, i) => ({
      i,
      streamId: e.streamId,
      streamPosition: e.streamPosition,
      eventId: e.eventId,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      recordedAt: e.recordedAt,
    }));
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at)
         SELECT r."streamId", r."streamPosition", r."eventId", r.type, r."schemaVersion", r.data, r.metadata, r."recordedAt"
         FROM jsonb_to_recordset($1::jsonb) AS r(i int, "streamId" text, "streamPosition" bigint, "eventId" uuid,
           type text, "schemaVersion" int, data jsonb, metadata jsonb, "recordedAt" timestamptz)
         ORDER BY r.i`,
        [JSON.stringify(rows)],
      );
      await tx.query(
        `INSERT INTO streams (stream_id, version)
         SELECT r."streamId", max(r."streamPosition") FROM jsonb_to_recordset($1::jsonb) AS r("streamId" text, "streamPosition" bigint)
         GROUP BY r."streamId"
         ON CONFLICT (stream_id) DO UPDATE SET version = GREATEST(streams.version, EXCLUDED.version)`,
        [JSON.stringify(rows.map(({ streamId, streamPosition }) => ({ streamId, streamPosition })))],
      );
    });
    this.count += this.batch.length;
    this.batch = [];
    this.bytes = 0;
  }
}
