import { handledBy, type Projection } from '../projections/projection.js';
import type { SqlExecutor } from '../sql/sql-client.js';
import { VersionConflictError, type ExpectedVersion } from './errors.js';
import { claimKey, recordKeyResult } from './idempotency-keys.js';
import type {
  AppendItem,
  AppendManyOptions,
  AppendOptions,
  AppendOutcome,
  AppendResult,
  EventMetadata,
  RecordedEvent,
} from './event-store.js';
import { comparePositions, parsePosition } from './position.js';

export const EVENTS_CHANNEL = 'docsvc_events';

export const EVENT_COLUMNS = `event_id::text, stream_id, stream_position::text, transaction_id::text AS tx,
  global_position::text AS seq, type, schema_version, data, metadata, created_at`;

/** An item with its events encoded (registry, metadata), ready for the batch's one INSERT. */
export interface EncodedItem {
  streamId: string;
  rows: Array<{
    eventId: string;
    type: string;
    schemaVersion: number;
    data: unknown;
    metadata: EventMetadata;
  }>;
  options: AppendOptions;
}

export interface BatchContext {
  inlineProjections: readonly Projection[];
  recordedAt: string | null;
  toRecorded: (row: unknown) => RecordedEvent;
  /** The items whose events the batch inserted (not refused, not replayed), for metrics once it commits. */
  inserted?: readonly EncodedItem[];
}

/**
 * One transaction's work for a batch: admit, replay by idempotency key, the hooks, then every stream's version and
 * every event and the NOTIFY in one statement (NOTIFY's lock is global and taken at commit: one per transaction
 * whatever the batch's size), then the inline projections once with all recorded events.
 */
export async function appendBatch<R>(
  tx: SqlExecutor,
  items: readonly EncodedItem[],
  options: AppendManyOptions<R>,
  ctx: BatchContext,
): Promise<Array<AppendOutcome<R>>> {
  // Every append takes `streams` first, before its hooks' locks and reads: an inline rebuild holds `streams` in
  // EXCLUSIVE mode while it truncates the read models, so an append that read them first would deadlock with it.
  const hooks = options.admit || options.alsoWrite || items.some((item) => item.options.alsoWrite);
  if (hooks) await tx.query('LOCK TABLE streams IN ROW EXCLUSIVE MODE');
  const { outcomes, appending } = await admitAndWrite(tx, items, options, claimIdempotencyKey);
  if (appending.length > 0) {
    const results = await insertEvents(
      tx,
      appending.map((i) => items[i]!),
      ctx,
    );
    appending.forEach((i, n) => (outcomes[i] = results[n]));
  }
  return outcomes as Array<AppendOutcome<R>>;
}

async function insertEvents(
  tx: SqlExecutor,
  items: readonly EncodedItem[],
  ctx: BatchContext,
): Promise<AppendResult[]> {
  const inserted = await tx.query(APPEND_SQL, [...insertParams(items, ctx), null]);
  ctx.inserted = items;
  const recorded = inserted.rows.map(ctx.toRecorded).sort(byPosition);
  const results = items.map((item) => resultOf(item, recorded));
  for (const projection of ctx.inlineProjections) {
    const mine = handledBy(projection, recorded);
    if (mine.length > 0) await projection.apply(tx, mine);
  }
  for (const [n, item] of items.entries()) {
    if (!item.options.idempotencyKey) continue;
    await recordKeyResult(tx, item.options.idempotencyKey, results[n]!);
  }
  return results;
}

/**
 * A batch's steps before its events, in its transaction, whichever store then takes the events: `admit`, then
 * each admitted item's idempotency key (`claim` answers the first append's result for a key already used), then
 * the items' own hooks and the batch's. Answers each item's outcome so far (undefined: to append) and the
 * indexes of the items to append.
 */
export async function admitAndWrite<R>(
  tx: SqlExecutor,
  items: ReadonlyArray<Pick<AppendItem, 'streamId' | 'options'>>,
  options: AppendManyOptions<R>,
  claim: (
    tx: SqlExecutor,
    key: string,
    streamId: string,
    requestSha256: string | undefined,
  ) => Promise<AppendResult | undefined>,
): Promise<{ outcomes: Array<AppendOutcome<R> | undefined>; appending: number[] }> {
  const refusals = (await options.admit?.(tx)) ?? [];
  const outcomes: Array<AppendOutcome<R> | undefined> = items.map((_, i) =>
    refusals[i] === undefined ? undefined : { refused: refusals[i] as R },
  );
  for (const [i, item] of items.entries()) {
    const key = item.options.idempotencyKey;
    if (outcomes[i] === undefined && key)
      outcomes[i] = await claim(tx, key, item.streamId, item.options.requestSha256);
  }
  const appending = items.flatMap((_, i) => (outcomes[i] === undefined ? [i] : []));
  for (const i of appending) await items[i]!.options.alsoWrite?.(tx);
  await options.alsoWrite?.(tx, appending);
  return { outcomes, appending };
}

/**
 * Whether one stream's append has nothing to do but its statement: no hook, no idempotency key, no inline
 * projection of its events. It is then sent alone, committed on its own (appendAlone).
 */
export function appendsAlone<R>(
  items: readonly EncodedItem[],
  options: AppendManyOptions<R>,
  ctx: BatchContext,
): boolean {
  if (items.length !== 1 || options.admit || options.alsoWrite) return false;
  const [{ rows, options: own }] = items as [EncodedItem];
  if (own.alsoWrite || own.idempotencyKey) return false;
  return !ctx.inlineProjections.some((p) => rows.some((row) => p.handles.includes(row.type)));
}

/**
 * One stream's events as one statement outside a transaction: PostgreSQL commits a statement on its own, so the
 * BEGIN and COMMIT round trips go (the same append took four round trips with its read, against an event store
 * that calls one function: BENCHMARKS.md, "Against emmett"). The expected version is checked in the statement,
 * which then writes nothing: undefined is returned, and the caller reports the conflict.
 */
export async function appendAlone(
  sql: SqlExecutor,
  item: EncodedItem,
  ctx: BatchContext,
): Promise<AppendResult | undefined> {
  const expected = item.options.expectedVersion;
  const { rows } = await sql.query<{ version: number; tx: string; seq: string }>(
    `SELECT stream_position::int AS version, tx, seq FROM docsvc_append($1::jsonb, $2, $3, $4)
     ORDER BY stream_position::int DESC LIMIT 1`,
    [...insertParams([item], ctx), expected === 'any' ? null : expected === 'no_stream' ? 0 : expected],
  );
  // No inline projection reads them: only the last event's version and position come back, not every column.
  const last = rows[0];
  return last && { version: last.version, position: `${last.tx}.${last.seq}` };
}

function insertParams(items: readonly EncodedItem[], ctx: BatchContext): unknown[] {
  const rows = items.flatMap((item) =>
    item.rows.map((row, n) => ({ ...row, streamId: item.streamId, ord: n + 1, count: item.rows.length })),
  );
  return [JSON.stringify(rows), ctx.recordedAt, EVENTS_CHANNEL];
}

/** Every append's one statement: the function of migration 0015, planned once per session. */
const APPEND_SQL = `SELECT * FROM docsvc_append($1::jsonb, $2, $3, $4)`;

/** The stream's version after the batch, once its version before has been checked against the expected one. */
function resultOf(item: EncodedItem, recorded: readonly RecordedEvent[]): AppendResult {
  const mine = recorded.filter((e) => e.streamId === item.streamId);
  const version = mine.at(-1)!.streamPosition;
  assertExpected(item.streamId, item.options.expectedVersion, version - item.rows.length);
  return { version, position: mine.at(-1)!.position };
}

const byPosition = (a: RecordedEvent, b: RecordedEvent) =>
  comparePositions(parsePosition(a.position), parsePosition(b.position));

function assertExpected(streamId: string, expected: ExpectedVersion, actual: number): void {
  const ok = expected === 'any' || (expected === 'no_stream' ? actual === 0 : actual === expected);
  if (!ok) throw new VersionConflictError(streamId, expected, actual);
}

/**
 * Claims the key, or returns the first append's result: a concurrent first append is waited for by the key's
 * index, and its result commits with its claim, so a claim seen here always has one.
 */
async function claimIdempotencyKey(
  tx: SqlExecutor,
  key: string,
  streamId: string,
  requestSha256: string | undefined,
): Promise<AppendResult | undefined> {
  const first = await claimKey(tx, key, streamId, requestSha256);
  if (first && !first.result) throw new Error(`idempotency key ${key} is claimed without a result`);
  return first?.result;
}
