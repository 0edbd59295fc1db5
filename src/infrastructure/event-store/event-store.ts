import type { SqlExecutor } from '../sql/sql-client.js';
import type { ExpectedVersion } from './errors.js';
import type { StoredKey } from './idempotency-keys.js';

/** Who and why, carried by every event (ARCHITECTURE.md). */
export interface EventMetadata {
  actor: string;
  correlationId: string;
  causationId: string | null;
  idempotencyKey: string | null;
  occurredAt: string;
  schemaVersion: number;
}

export interface NewEvent {
  type: string;
  data: unknown;
  /** Defaults to a random UUID. */
  eventId?: string;
}

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  idempotencyKey?: string;
  /** A digest of the request the key is used for: the same key with another request is IDEMPOTENCY_KEY_REUSED. */
  requestSha256?: string;
  actor?: string;
  correlationId?: string;
  causationId?: string;
  /** When the command happened (the clock port); defaults to now. */
  occurredAt?: Date;
  /**
   * Writes that must commit with the events (a file, a document key), run in the append transaction before the
   * events are inserted. An error here aborts the append. (An event store outside PostgreSQL cannot make this
   * atomic; its adapter documents what it does instead.)
   */
  alsoWrite?: (tx: SqlExecutor) => Promise<void>;
}

export interface AppendResult {
  /** The stream's version after the append (its last event's stream position). */
  version: number;
  /** The global position of the last appended event, an opaque string. */
  position: string;
}

/** One stream's part of a batch append. */
export interface AppendItem {
  streamId: string;
  events: readonly NewEvent[];
  options: AppendOptions;
}

/**
 * A batch's own steps, run in its transaction. `admit` runs first (e.g. takes locks and looks up) and may refuse
 * items: its answer, one entry per item, is undefined to append the item or a reason not to. `alsoWrite` runs
 * after every item's own `alsoWrite`, with the indexes of the admitted items, before the events are inserted.
 */
export interface AppendManyOptions<Refusal = unknown> {
  admit?: (tx: SqlExecutor) => Promise<ReadonlyArray<Refusal | undefined>>;
  alsoWrite?: (tx: SqlExecutor, admitted: readonly number[]) => Promise<void>;
}

/** An item's outcome: appended (or replayed by its idempotency key), or refused by `admit`. */
export type AppendOutcome<Refusal = unknown> = AppendResult | { refused: Refusal };

export interface RecordedEvent<T = unknown> {
  eventId: string;
  streamId: string;
  streamPosition: number;
  position: string;
  type: string;
  data: T;
  metadata: EventMetadata;
  recordedAt: Date;
}

export interface ReadStreamOptions {
  fromVersion?: number;
  toVersion?: number;
  /** Only events recorded at or before this moment. */
  until?: Date;
}

export interface ReadAllOptions {
  /** Exclusive; omit to start at the beginning. */
  after?: string;
  limit: number;
  /**
   * Every committed event, including those of transactions newer than one still running. Only for a reader
   * that blocks appends meanwhile (an inline rebuild): no append can commit behind it, so none can be skipped.
   */
  appendsBlocked?: boolean;
  /**
   * Stop before the events read hold more than this many bytes of payload (at least one event is always
   * returned): a batch of large documents is then read, and held, a few at a time. Sizes are estimates (PostgreSQL:
   * the payload's stored size; EventStoreDB: its JSON length).
   */
  maxBytes?: number;
}

export interface ReadAllResult {
  events: RecordedEvent[];
  /** The position of the last event returned, or `after` when none. */
  last: string | undefined;
}

export interface EventStore {
  /** A batch of one (appendMany). */
  append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult>;
  /**
   * Appends to many streams (each at most once) in one transaction, with one notification: all of it or, when an
   * item's expected version is wrong or a hook throws, none of it. Outcomes come in the items' order.
   */
  appendMany<Refusal = unknown>(
    items: readonly AppendItem[],
    options?: AppendManyOptions<Refusal>,
  ): Promise<Array<AppendOutcome<Refusal>>>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The events of each stream, read in one query, by stream id (a stream without events is missing). */
  readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>>;
  /**
   * Events in the global order, never skipping one whose transaction commits late: only events of
   * transactions that no running transaction can precede are returned.
   */
  readAll(options: ReadAllOptions, via?: SqlExecutor): Promise<ReadAllResult>;
  /**
   * The position of the last event visible in the global order, or undefined when the store is empty. With
   * `{ settled: false }`, of the last committed event, even one a reader of the global order still waits for (a
   * position beyond it was never handed out).
   */
  head(options?: { settled?: boolean }): Promise<string | undefined>;
  /** The idempotency keys among `keys` that were used, with their stream, request digest and first result. */
  idempotencyKeys(keys: readonly string[]): Promise<Map<string, StoredKey>>;
  /** How many events follow `position` in the global order (all of them when undefined), counting up to `cap`. */
  countAfter(position: string | undefined, cap: number): Promise<number>;
  /**
   * Calls `wake` whenever events may have been appended, by this process or another, until the returned close is
   * called. Only for a store whose appends PostgreSQL's NOTIFY does not announce (the projectors LISTEN for those).
   */
  watch?(wake: () => void): () => Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');
