import { parsePosition } from '../../infrastructure/event-store/position.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { ChunkScope } from './chunk-rows.js';
import type { ChunkerConfig } from './chunker-config.js';

/** Events that bring a new document version, hence new chunks. */
export const VERSION_EVENT_TYPES = [
  'DocumentUploaded',
  'DocumentEdited',
  'DocumentFileReplaced',
  'DocumentRolledBack',
];

/** At most this many pending events are weighed (a larger backlog is a bulk load at any corpus size seen). */
export const PENDING_EVENTS_MAX = 100_000;

/**
 * The stored size of each version event from a position on, in the global order. A version's text is sealed in
 * its event (base64 of AES-GCM, compressed by the toaster to about the text's own size), so its stored size
 * (pg_column_size: no decompression, no TOAST read) tells how much text is to be chunked. Through the
 * events' global order index.
 */
export const PENDING_VERSIONS_SQL = `SELECT count(*)::int AS versions,
    coalesce(sum(greatest(1, pg_column_size(data)::float8 / $4)), 0)::float8 AS chunks
  FROM (SELECT data FROM events
        WHERE (transaction_id, global_position) >= ($1::text::xid8, $2::bigint) AND type = ANY ($3::text[])
        ORDER BY transaction_id, global_position LIMIT ${PENDING_EVENTS_MAX}) e`;

/**
 * An estimate of the chunks the events from `from` on will write: each version's stored size over the text of a
 * chunk (targetTokens tokens of ~4 characters), at least one chunk a version.
 */
export async function pendingChunks(sql: SqlExecutor, from: string, chunker: ChunkerConfig): Promise<number> {
  const { tx, seq } = parsePosition(from);
  const { rows } = await sql.query<{ chunks: number }>(PENDING_VERSIONS_SQL, [
    tx.toString(),
    seq.toString(),
    VERSION_EVENT_TYPES,
    4 * chunker.targetTokens,
  ]);
  return Math.round(rows[0]!.chunks);
}

/** The current chunks of a configuration, from the BM25 statistics kept by trigger (no scan of chunks). */
export async function currentChunks(sql: SqlExecutor, [space, chunker]: ChunkScope): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    'SELECT coalesce(sum(chunks), 0)::int AS n FROM chunk_stats WHERE space = $1 AND chunker = $2',
    [space, chunker],
  );
  return rows[0]!.n;
}
