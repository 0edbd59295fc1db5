import { createHash } from 'node:crypto';
import {
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  type EventStoreDBClient,
  type JSONRecordedEvent,
} from '@eventstore/db-client';
import { eventsBetween, settledHead } from '../../backup/store-reader.js';
import type { EventRecord } from '../../backup/backup-format.js';
import type { SqlClient } from '../../sql/sql-client.js';
import { canonicalJson } from '../canonical-json.js';
import { fromPosition, isSystemEvent } from './esdb-mapping.js';
import { eachEvent, lastPosition } from './esdb-reads.js';

export interface MigrationProgress {
  migrated: number;
  total: number;
}

export interface MigrationResult {
  /** Events appended by this run (a resumed run skips what an earlier one moved). */
  migrated: number;
  resumedAfter: string | null;
  verification: { postgres: Side; eventstoredb: Side; ok: boolean };
}

/** The target already holds events that did not come from this database: nothing is appended to it. */
export class ForeignEventsError extends Error {}

interface Side {
  events: number;
  sha256: string;
}

/**
 * Moves the PostgreSQL event log into EventStoreDB in its global order, each event with its id, stream, stream
 * position (as the expected revision of its append), type, payload exactly as stored (sealed parts stay sealed),
 * metadata, and the time it was first recorded. Resumable: the last application event in `$all` is the last one
 * moved, so a new run continues after it; and every append is exact and keeps its ids, so the server answers an
 * event sent twice with the first write. Ends with a verification: counts and a digest of both logs.
 */
export async function migrateEvents(
  sql: SqlClient,
  client: EventStoreDBClient,
  options: { onProgress?: (p: MigrationProgress) => void; stopAfter?: number } = {},
): Promise<MigrationResult> {
  const head = await settledHead(sql);
  const resumedAfter = await resumePoint(sql, client);
  const total = await countEvents(sql, resumedAfter, head);
  let migrated = 0;
  if (head) {
    for await (const event of eventsBetween(sql, resumedAfter, head)) {
      if (options.stopAfter !== undefined && migrated >= options.stopAfter) break;
      await client.appendToStream(event.streamId, [asEsdbEvent(event)], {
        expectedRevision: event.streamPosition === 1 ? NO_STREAM : BigInt(event.streamPosition - 2),
      });
      if (++migrated % 500 === 0) options.onProgress?.({ migrated, total });
    }
  }
  options.onProgress?.({ migrated, total });
  const verification = await verify(sql, client, head);
  return { migrated, resumedAfter, verification };
}

function asEsdbEvent(event: EventRecord) {
  const metadata = { ...(event.metadata as object), recordedAt: event.recordedAt };
  return jsonEvent({
    id: event.eventId,
    type: event.type,
    data: event.data as never,
    metadata: metadata as never,
  });
}

/** The PostgreSQL position of the last event already in EventStoreDB, or null to start at the beginning. */
async function resumePoint(sql: SqlClient, client: EventStoreDBClient): Promise<string | null> {
  const last = await lastPosition(client);
  if (!last) return null;
  let firstId: string | undefined;
  await eachEvent(
    client.readAll({ fromPosition: fromPosition(last), direction: FORWARDS, maxCount: 1 }),
    (r) => {
      firstId = r.event!.id;
      return false;
    },
  );
  if (!firstId) return null;
  const { rows } = await sql.query<{ tx: string; seq: string }>(
    `SELECT transaction_id::text AS tx, global_position::text AS seq FROM events WHERE event_id = $1`,
    [firstId],
  );
  if (!rows[0])
    throw new ForeignEventsError(
      `EventStoreDB holds event ${firstId}, which this database does not: not a migration of it`,
    );
  return `${rows[0].tx}.${rows[0].seq}`;
}

async function countEvents(sql: SqlClient, after: string | null, head: string | undefined): Promise<number> {
  if (!head) return 0;
  const [from, to] = [after ?? '0.0', head].map((p) => p.split('.'));
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events
     WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
       AND (transaction_id, global_position) <= ($3::text::xid8, $4::bigint)`,
    [from![0], from![1], to![0], to![1]],
  );
  return rows[0]?.n ?? 0;
}

const line = (id: string, stream: string, position: number, type: string, data: unknown, metadata: unknown) =>
  `${id}\u0000${stream}\u0000${position}\u0000${type}\u0000${canonicalJson(data)}\u0000${canonicalJson(metadata)}\n`;

async function verify(sql: SqlClient, client: EventStoreDBClient, head: string | undefined) {
  const pg = { events: 0, hash: createHash('sha256') };
  if (head)
    for await (const e of eventsBetween(sql, null, head)) {
      pg.events++;
      pg.hash.update(
        line(e.eventId, e.streamId, e.streamPosition, e.type, e.data, {
          ...(e.metadata as object),
          recordedAt: e.recordedAt,
        }),
      );
    }
  const es = { events: 0, hash: createHash('sha256') };
  for await (const resolved of client.readAll({ fromPosition: START, direction: FORWARDS })) {
    const event = resolved.event as JSONRecordedEvent;
    if (isSystemEvent(event.type)) continue;
    es.events++;
    es.hash.update(
      line(event.id, event.streamId, Number(event.revision) + 1, event.type, event.data, event.metadata),
    );
  }
  const postgres = { events: pg.events, sha256: pg.hash.digest('hex') };
  const eventstoredb = { events: es.events, sha256: es.hash.digest('hex') };
  return {
    postgres,
    eventstoredb,
    ok: postgres.events === eventstoredb.events && postgres.sha256 === eventstoredb.sha256,
  };
}
