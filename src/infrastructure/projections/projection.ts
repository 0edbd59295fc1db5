import type { RecordedEvent } from '../event-store/event-store.js';
import type { SqlExecutor } from '../sql/sql-client.js';

/**
 * The projection engine's contract. A read model is a plain object. `apply` must be idempotent (an event
 * delivered twice changes nothing) and writes only through `tx`, so that its writes commit together with the
 * append (inline) or the checkpoint (async).
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** Event types it applies; others are passed over (the checkpoint still moves past them). */
  readonly handles: readonly string[];
  apply(tx: SqlExecutor, events: readonly RecordedEvent[], prepared?: unknown): Promise<void>;
  /** Empties the read model (rebuild). */
  truncate(tx: SqlExecutor): Promise<void>;
}

/**
 * A projection run by a projector, behind the append, with a checkpoint of its own. A new `version` builds
 * beside the live one, from the first event, with its own checkpoint.
 */
export interface AsyncProjection extends Projection {
  /** What this version was built with (JSON), kept with its checkpoint so that another process can rebuild it. */
  readonly config?: Record<string, unknown>;
  /**
   * Run beside a new version of the same projection only to serve reads until the new one is live (blue/green):
   * once retired it stays retired, where a process configured for it would build it anew.
   */
  readonly companion?: boolean;
  /** Once, before the first batch of an active projector (e.g. create indexes for its configuration). */
  setup?(sql: SqlExecutor): Promise<void>;
  /**
   * Work done before the batch's transaction and outside it (e.g. calling an embedding service), so that no
   * transaction stays open on a slow network call. Its result is handed to `apply`.
   */
  prepare?(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<unknown>;
  /**
   * Splits a prepared batch into steps of at most `budget` units of work (the projection's unit: chunks for the
   * chunks projection), applied in order, each in its own transaction; the checkpoint advances with the last.
   * Whatever a step commits must be what a later delivery of the whole batch would also write. Without it, a
   * batch is one step.
   */
  steps?(events: readonly RecordedEvent[], prepared: unknown, budget: number): ProjectionStep[];
  /** After the batch committed, outside any transaction (e.g. VACUUM after an erasure). */
  afterCommit?(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<void>;
  /** When the projector has caught up (nothing left to read), outside any transaction. */
  idle?(sql: SqlExecutor): Promise<void>;
  /**
   * Another version of the same projection went live and this one took over from it; drop what that version
   * wrote (`config` is what it recorded). Called once, after the switch committed.
   */
  dropVersion?(sql: SqlExecutor, config: Record<string, unknown> | null): Promise<void>;
}

export interface ProjectionStep {
  events: readonly RecordedEvent[];
  prepared: unknown;
}

export function handledBy(projection: Projection, events: readonly RecordedEvent[]): RecordedEvent[] {
  return events.filter((event) => projection.handles.includes(event.type));
}
