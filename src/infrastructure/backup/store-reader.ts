import { settledTransactions } from '../event-store/horizon.js';
import { comparePositions, formatPosition, parsePosition, START } from '../event-store/position.js';
import type { SqlExecutor } from '../sql/sql-client.js';
import type { EventRecord } from './backup-format.js';

/** Raw reads of the event log and the stores beside it, for backups: nothing is decoded or unsealed. */

const EVENT_COLUMNS = `transaction_id::text AS tx, global_position::text AS seq, event_id::text, stream_id,
  stream_position::int, type, schema_version, data, metadata, created_at`;

interface EventRow {
  tx: string;
  seq: string;
  event_id: string;
  stream_id: string;
  stream_position: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  created_at: Date | string;
}

function toRecord<T extends 'event' | 'erasure'>(t: T, row: EventRow): EventRecord & { t: T } {
  return {
    t,
    position: formatPosition({ tx: BigInt(row.tx), seq: BigInt(row.seq) }),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamPosition: row.stream_position,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: new Date(row.created_at).toISOString(),
  } as EventRecord & { t: T };
}

/**
 * The last position of the settled global order. Every event at or before it has committed and no later
 * commit can land before it, so the events up to it are a consistent cut, read page by page while writes go on.
 */
export async function settledHead(sql: SqlExecutor): Promise<string | undefined> {
  const { rows } = await sql.query<{ tx: string; seq: string }>(
    `SELECT transaction_id::text AS tx, global_position::text AS seq FROM events
     WHERE ${settledTransactions('transaction_id')}
     ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  return rows[0] ? formatPosition({ tx: BigInt(rows[0].tx), seq: BigInt(rows[0].seq) }) : undefined;
}

/** The last committed event, settled or not: where the log stood when the backup began. */
export async function committedHead(sql: SqlExecutor): Promise<string | undefined> {
  const { rows } = await sql.query<{ tx: string; seq: string }>(
    `SELECT transaction_id::text AS tx, global_position::text AS seq FROM events
     ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  return rows[0] ? formatPosition({ tx: BigInt(rows[0].tx), seq: BigInt(rows[0].seq) }) : undefined;
}

/**
 * The settled head once it has passed `committed`, or, when a long transaction elsewhere on the server holds
 * the horizon back for longer than `waitMs`, the settled head as it is then (the rest goes in the next backup).
 */
export async function cutAfter(
  sql: SqlExecutor,
  committed: string | undefined,
  waitMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const settled = await settledHead(sql);
    const reached =
      !committed || (settled && comparePositions(parsePosition(settled), parsePosition(committed)) >= 0);
    if (reached || Date.now() >= deadline) return settled;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Events after `since` (exclusive) up to `until` (inclusive), in the global order, a page at a time. */
export async function* eventsBetween(
  sql: SqlExecutor,
  since: string | null,
  until: string,
  pageSize = 1_000,
): AsyncGenerator<EventRecord> {
  const end = parsePosition(until);
  for (let after = since ? parsePosition(since) : START; ;) {
    const { rows } = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
         AND (transaction_id, global_position) <= ($3::text::xid8, $4::bigint)
       ORDER BY transaction_id, global_position LIMIT $5`,
      [after.tx.toString(), after.seq.toString(), end.tx.toString(), end.seq.toString(), pageSize],
    );
    for (const row of rows) yield toRecord('event', row);
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = { tx: BigInt(last.tx), seq: BigInt(last.seq) };
  }
}

/** Every erasure the log records, up to now: the ledger a backup carries. */
export async function erasureEvents(sql: SqlExecutor): Promise<EventRecord[]> {
  const { rows } = await sql.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE type = 'DocumentErased' ORDER BY transaction_id, global_position`,
  );
  return rows.map((row) => toRecord('erasure', row));
}

export interface VersionFile {
  documentId: string;
  sha256: string;
}

/** The files that versions written in (since, until] refer to, once per document. */
export async function versionFiles(
  sql: SqlExecutor,
  documentIds: readonly string[],
  since: string | null,
  until: string,
): Promise<VersionFile[]> {
  if (documentIds.length === 0) return [];
  const { rows } = await sql.query<{ document_id: string; file_sha256: string; position: string }>(
    `SELECT document_id::text, file_sha256, position FROM document_versions
     WHERE document_id = ANY ($1::uuid[]) AND file_sha256 IS NOT NULL`,
    [[...documentIds]],
  );
  const from = since ? parsePosition(since) : START;
  const to = parsePosition(until);
  const seen = new Set<string>();
  const files: VersionFile[] = [];
  for (const row of rows) {
    const at = parsePosition(row.position);
    if (comparePositions(at, from) <= 0 || comparePositions(at, to) > 0) continue;
    const id = `${row.document_id}/${row.file_sha256}`;
    if (seen.has(id)) continue;
    seen.add(id);
    files.push({ documentId: row.document_id, sha256: row.file_sha256 });
  }
  return files;
}

export async function urlSourceRows(sql: SqlExecutor): Promise<Array<Record<string, unknown>>> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT document_id::text, coach_id, url, refresh_interval_days, etag, last_modified, created_at,
            last_fetched_at, last_changed_at, next_refresh_at, failures, last_error_code, last_error, last_attempt_at
     FROM url_sources ORDER BY document_id`,
  );
  return rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])),
  );
}
