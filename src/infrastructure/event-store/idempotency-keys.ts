import type { SqlExecutor } from '../sql/sql-client.js';
import { IdempotencyKeyReusedError } from './errors.js';
import type { AppendResult } from './event-store.js';

/** What a used idempotency key holds: its stream, the request's digest, and the append's result once known. */
export interface StoredKey {
  streamId: string;
  requestSha256: string | null;
  result: AppendResult | undefined;
}

interface Row {
  key: string;
  stream_id: string;
  request_sha256: string | null;
  version: number | null;
  position: string | null;
}

/** The stored keys among `keys` (both stores keep them in PostgreSQL, in `idempotency_keys`). */
export async function findKeys(on: SqlExecutor, keys: readonly string[]): Promise<Map<string, StoredKey>> {
  if (keys.length === 0) return new Map();
  const { rows } = await on.query<Row>(
    `SELECT key, stream_id, request_sha256, version::int AS version, position FROM idempotency_keys
     WHERE key = ANY ($1::text[])`,
    [[...new Set(keys)]],
  );
  return new Map(rows.map((r) => [r.key, stored(r)]));
}

/**
 * Claims `key` for this stream and request, or answers the stored key when it was used before: the same request
 * (and stream) is a retry, anything else is refused with IDEMPOTENCY_KEY_REUSED.
 */
export async function claimKey(
  tx: SqlExecutor,
  key: string,
  streamId: string,
  requestSha256: string | undefined,
): Promise<StoredKey | undefined> {
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (key, stream_id, request_sha256) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO NOTHING RETURNING key`,
    [key, streamId, requestSha256 ?? null],
  );
  if (claimed.rowCount === 1) return undefined;
  const first = (await findKeys(tx, [key])).get(key)!;
  assertSameRequest(key, first, streamId, requestSha256);
  return first;
}

export function assertSameRequest(
  key: string,
  first: StoredKey,
  streamId: string,
  requestSha256: string | undefined,
): void {
  const otherRequest = first.requestSha256 && requestSha256 && first.requestSha256 !== requestSha256;
  if (otherRequest || first.streamId !== streamId)
    throw new IdempotencyKeyReusedError(key, first.streamId, streamId);
}

export async function recordKeyResult(on: SqlExecutor, key: string, result: AppendResult): Promise<void> {
  await on.query(`UPDATE idempotency_keys SET version = $2, position = $3 WHERE key = $1`, [
    key,
    result.version,
    result.position,
  ]);
}

const stored = (r: Row): StoredKey => ({
  streamId: r.stream_id,
  requestSha256: r.request_sha256,
  result:
    r.version !== null && r.position !== null ? { version: r.version, position: r.position } : undefined,
});
