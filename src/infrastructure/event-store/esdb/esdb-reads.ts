import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  type EventStoreDBClient,
  type JSONRecordedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { EventRegistry } from '../event-registry.js';
import type { EventMetadata, ReadAllResult, ReadStreamOptions, RecordedEvent } from '../event-store.js';
import { fromPosition, isSystemEvent, toPosition, versionOf } from './esdb-mapping.js';

/** Reads are bounded: a long stream or the whole log comes page by page, never in one response. */
const PAGE = 500;

export function toRecorded(registry: EventRegistry, resolved: ResolvedEvent): RecordedEvent {
  const event = resolved.event as JSONRecordedEvent;
  const { recordedAt, ...metadata } = event.metadata as unknown as EventMetadata & { recordedAt?: string };
  return {
    eventId: event.id,
    streamId: event.streamId,
    streamPosition: versionOf(event.revision),
    position: toPosition(event.position!),
    type: event.type,
    data: registry.decode(event.type, metadata.schemaVersion, event.data),
    metadata,
    // An event moved from PostgreSQL (docsvc migrate-events) keeps the time it was first recorded.
    recordedAt: recordedAt ? new Date(recordedAt) : event.created,
  };
}

/** A stream's events in order, within the options' version window and moment; a missing stream has none. */
export async function readStreamPaged(
  client: EventStoreDBClient,
  registry: EventRegistry,
  streamId: string,
  options: ReadStreamOptions,
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let from: bigint | typeof START =
    options.fromVersion && options.fromVersion > 1 ? BigInt(options.fromVersion - 1) : START;
  for (;;) {
    let page = 0;
    try {
      for await (const resolved of client.readStream(streamId, {
        fromRevision: from,
        direction: FORWARDS,
        maxCount: PAGE,
      })) {
        page++;
        const event = toRecorded(registry, resolved);
        if (options.toVersion !== undefined && event.streamPosition > options.toVersion) return events;
        if (options.until && event.recordedAt > options.until) return events;
        events.push(event);
        from = BigInt(event.streamPosition); // the next page starts after this revision
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    if (page < PAGE) return events;
  }
}

/** The application's events after `after` in `$all` (the read is inclusive of its start: that event is passed over). */
export async function readAllPaged(
  client: EventStoreDBClient,
  registry: EventRegistry,
  after: string | undefined,
  limit: number,
): Promise<ReadAllResult> {
  const events: RecordedEvent[] = [];
  let from = fromPosition(after);
  let skip = after;
  for (;;) {
    let page = 0;
    let lastSeen: string | undefined;
    for await (const resolved of client.readAll({
      fromPosition: from,
      direction: FORWARDS,
      maxCount: PAGE,
    })) {
      page++;
      lastSeen = toPosition(resolved.event!.position);
      if (lastSeen === skip || isSystemEvent(resolved.event!.type)) continue;
      events.push(toRecorded(registry, resolved));
      if (events.length === limit) return { events, last: events.at(-1)!.position };
    }
    if (page < PAGE || !lastSeen) return { events, last: events.at(-1)?.position ?? after };
    from = fromPosition(lastSeen);
    skip = lastSeen;
  }
}

/** The position of the last application event in `$all`. */
export async function lastPosition(client: EventStoreDBClient): Promise<string | undefined> {
  let from: ReturnType<typeof fromPosition> | typeof END = END;
  let skip: string | undefined;
  for (;;) {
    let page = 0;
    let lastSeen: string | undefined;
    for await (const resolved of client.readAll({
      fromPosition: from,
      direction: BACKWARDS,
      maxCount: PAGE,
    })) {
      page++;
      lastSeen = toPosition(resolved.event!.position);
      if (lastSeen !== skip && !isSystemEvent(resolved.event!.type)) return lastSeen;
    }
    if (page < PAGE || !lastSeen) return undefined;
    from = fromPosition(lastSeen);
    skip = lastSeen;
  }
}
