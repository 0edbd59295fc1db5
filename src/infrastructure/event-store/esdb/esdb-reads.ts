import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  type EventStoreDBClient,
  type JSONRecordedEvent,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import type { EventRegistry } from '../event-registry.js';
import type {
  EventMetadata,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  RecordedEvent,
} from '../event-store.js';
import { fromPosition, isSystemEvent, toPosition, versionOf } from './esdb-mapping.js';

/** Reads are bounded: a long stream or the whole log comes page by page, never in one response. */
const PAGE = 500;

/**
 * Reads every event of one response until `visit` answers false, and then cancels the call: a reader that stops
 * early would otherwise leave its gRPC call open (the client's own iterator ends only its wrapper), holding a
 * server stream and making the client's `dispose()` wait for it. Answers how many events it saw.
 */
export async function eachEvent<E>(read: StreamingRead<E>, visit: (event: E) => boolean): Promise<number> {
  let seen = 0;
  for await (const event of read) {
    seen++;
    if (!visit(event)) {
      await read.cancel();
      break;
    }
  }
  return seen;
}

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
    let done = false;
    let page: number;
    try {
      page = await eachEvent(
        client.readStream(streamId, { fromRevision: from, direction: FORWARDS, maxCount: PAGE }),
        (resolved) => {
          const event = toRecorded(registry, resolved);
          done =
            (options.toVersion !== undefined && event.streamPosition > options.toVersion) ||
            (options.until !== undefined && event.recordedAt > options.until);
          if (done) return false;
          events.push(event);
          from = BigInt(event.streamPosition); // the next page starts after this revision
          return true;
        },
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    if (done || page < PAGE) return events;
  }
}

/** The application's events after `after` in `$all` (the read is inclusive of its start: that event is passed over). */
export async function readAllPaged(
  client: EventStoreDBClient,
  registry: EventRegistry,
  { after, limit, maxBytes = Infinity }: ReadAllOptions,
): Promise<ReadAllResult> {
  const events: RecordedEvent[] = [];
  let from = fromPosition(after);
  let skip = after;
  let bytes = 0;
  let full = false;
  for (;;) {
    let lastSeen: string | undefined;
    const page = await eachEvent(
      client.readAll({ fromPosition: from, direction: FORWARDS, maxCount: PAGE }),
      (resolved) => {
        lastSeen = toPosition(resolved.event!.position);
        if (lastSeen === skip || isSystemEvent(resolved.event!.type)) return true;
        const size = JSON.stringify(resolved.event!.data ?? null).length;
        full = events.length > 0 && bytes + size > maxBytes;
        if (full) return false;
        bytes += size;
        events.push(toRecorded(registry, resolved));
        full = events.length === limit;
        return !full;
      },
    );
    if (full) return { events, last: events.at(-1)!.position };
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
    let lastSeen: string | undefined;
    let found: string | undefined;
    const page = await eachEvent(
      client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: PAGE }),
      (resolved) => {
        lastSeen = toPosition(resolved.event!.position);
        if (lastSeen !== skip && !isSystemEvent(resolved.event!.type)) found = lastSeen;
        return found === undefined;
      },
    );
    if (found) return found;
    if (page < PAGE || !lastSeen) return undefined;
    from = fromPosition(lastSeen);
    skip = lastSeen;
  }
}

/** The application's events after `position` in `$all`, counted page by page (system events passed over) up to `cap`. */
export async function countAfter(
  client: EventStoreDBClient,
  position: string | undefined,
  cap: number,
): Promise<number> {
  let counted = 0;
  let from = position;
  for (;;) {
    let lastSeen: string | undefined;
    const page = await eachEvent(
      client.readAll({ fromPosition: fromPosition(from), direction: FORWARDS, maxCount: PAGE }),
      (resolved) => {
        lastSeen = toPosition(resolved.event!.position);
        if (lastSeen !== from && !isSystemEvent(resolved.event!.type)) counted++;
        return counted < cap;
      },
    );
    if (counted >= cap || page < PAGE || !lastSeen) return counted;
    from = lastSeen;
  }
}
