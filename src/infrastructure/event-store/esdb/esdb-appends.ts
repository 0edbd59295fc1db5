import {
  ANY,
  BACKWARDS,
  END,
  jsonEvent,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type EventStoreDBClient,
} from '@eventstore/db-client';
import { VersionConflictError, type ExpectedVersion } from '../errors.js';
import type { AppendResult, EventMetadata } from '../event-store.js';
import { expectedRevision, toPosition, versionOf } from './esdb-mapping.js';
import { eachEvent } from './esdb-reads.js';

/** How far back a retried append looks for its own events (written by a concurrent retry with the same key). */
const TAIL = 100;
const MAX_ATTEMPTS = 5;

export interface EncodedEvent {
  eventId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata & { recordedAt?: string };
}

/**
 * One stream's append on the server, at an exact expected revision whenever there is an idempotency key: an
 * `any` append with a key first reads the stream's tail, finds its own first event if a concurrent retry wrote
 * it, and otherwise appends at the revision it read (retried on a conflict), so the server can deduplicate.
 */
export async function appendToServer(
  client: EventStoreDBClient,
  streamId: string,
  encoded: readonly EncodedEvent[],
  expectedVersion: ExpectedVersion,
  keyed: boolean,
): Promise<AppendResult> {
  const events = encoded.map((e) =>
    jsonEvent({ id: e.eventId, type: e.type, data: e.data as never, metadata: e.metadata as never }),
  );
  const readsTail = expectedVersion === 'any' && keyed;
  for (let attempt = 1; ; attempt++) {
    let expected = expectedVersion;
    if (readsTail) {
      const tail = await streamTail(client, streamId, encoded[0]!.eventId);
      if (tail.written) return tail.written;
      expected = tail.version;
    }
    try {
      const result = await client.appendToStream(streamId, events, {
        expectedRevision: expected === 'any' ? ANY : expectedRevision(expected),
      });
      return { version: versionOf(result.nextExpectedRevision), position: toPosition(result.position!) };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      if (readsTail && attempt < MAX_ATTEMPTS) continue;
      const actual = versionOf(error.actualVersion as bigint | 'no_stream');
      throw new VersionConflictError(streamId, expectedVersion, actual);
    }
  }
}

/** The stream's version, and this append's result if a concurrent retry has written its first event already. */
async function streamTail(
  client: EventStoreDBClient,
  streamId: string,
  firstId: string,
): Promise<{ version: number; written?: AppendResult }> {
  const recent: Array<{ id: string; version: number; position: string }> = [];
  try {
    await eachEvent(
      client.readStream(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: TAIL }),
      ({ event }) => {
        recent.unshift({
          id: event!.id,
          version: versionOf(event!.revision),
          position: toPosition(event!.position!),
        });
        return true;
      },
    );
  } catch (error) {
    if (error instanceof StreamNotFoundError) return { version: 0 };
    throw error;
  }
  const last = recent.at(-1);
  if (!last) return { version: 0 };
  // The append's events carry ids derived from its key: finding its first one means the whole append is there.
  if (!recent.some((e) => e.id === firstId)) return { version: last.version };
  return { version: last.version, written: { version: last.version, position: last.position } };
}
