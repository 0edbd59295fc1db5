import type { RecordedEvent } from '../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../infrastructure/sql/sql-client.js';

/**
 * A read model is a plain object. `apply` must be idempotent (an event delivered twice changes nothing) and
 * writes only through `tx`, so that its writes commit together with the checkpoint (async) or the append (inline).
 * A new `version` builds beside the live one, from the first event, with its own checkpoint.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** Event types it applies; others are passed over (the checkpoint still moves past them). */
  readonly handles: readonly string[];
  apply(tx: SqlExecutor, events: readonly RecordedEvent[]): Promise<void>;
  /** Empties the read model (rebuild). */
  truncate(tx: SqlExecutor): Promise<void>;
}

export function handledBy(projection: Projection, events: readonly RecordedEvent[]): RecordedEvent[] {
  return events.filter((event) => projection.handles.includes(event.type));
}
