import { createHash } from 'node:crypto';
import type { Clock } from '../../infrastructure/clock/clock.js';
import type { ExistingSource, Source } from '../../infrastructure/documents/document-directory.js';
import { documentStreamId, SOURCE_RESERVED } from '../../infrastructure/documents/document-events.js';
import { VersionConflictError } from '../../infrastructure/event-store/errors.js';
import type { EventStore, RecordedEvent } from '../../infrastructure/event-store/event-store.js';

/**
 * Refuses the second of two concurrent uploads of one source for one coach where the read models cannot: with
 * PostgreSQL, uploads take turns on a transaction lock and the documents read model commits with the upload, so
 * `none` is enough; with EventStoreDB the read model follows the append, so each new source is reserved by an
 * append to a stream of its own, expecting the version read (the server lets one of two such appends through).
 */
export interface SourceReservations {
  /** Reserves `source` for `documentId`, or answers the upload that holds it. */
  reserve(source: Source, documentId: string): Promise<ExistingSource | undefined>;
}

export const SOURCE_RESERVATIONS = Symbol('SOURCE_RESERVATIONS');

export const noReservations: SourceReservations = { reserve: async () => undefined };

/** A reservation whose upload never arrived (a crash between the two appends) is given up after this long. */
export const RESERVATION_TTL_MS = 60_000;
const ATTEMPTS = 5;

/**
 * The stream's name is a digest, not the coach's id and the file's hash in the clear; it outlives an erasure in
 * the log (docs/eventstoredb.md), its events hold only document ids.
 */
export const reservationStream = (source: Source) =>
  `source-${createHash('sha256').update(`${source.coachId}\u0000${source.sourceSha256}`).digest('hex')}`;

export class StreamReservations implements SourceReservations {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async reserve(source: Source, documentId: string): Promise<ExistingSource | undefined> {
    const streamId = reservationStream(source);
    for (let attempt = 1; ; attempt++) {
      const last = (await this.store.readStream(streamId)).at(-1);
      const holder = last && (last.data as { documentId: string }).documentId;
      if (last && holder !== documentId) {
        const held = await this.heldBy(holder!, last);
        if (held) return held;
      }
      try {
        await this.store.append(streamId, [{ type: SOURCE_RESERVED, data: { documentId } }], {
          expectedVersion: last ? last.streamPosition : 'no_stream',
          actor: 'system',
        });
        return undefined;
      } catch (error) {
        // Another upload reserved it first: read again and answer with that one (or take it over if it is gone).
        if (!(error instanceof VersionConflictError) || attempt === ATTEMPTS) throw error;
      }
    }
  }

  /**
   * The holder's upload as it stands in the log: active (no retirement or erasure), or still on its way (reserved
   * within the TTL, not appended yet). A retired or erased document, or an abandoned reservation, holds nothing.
   */
  private async heldBy(documentId: string, reservation: RecordedEvent): Promise<ExistingSource | undefined> {
    const events = await this.store.readStream(documentStreamId(documentId));
    const last = events.at(-1);
    if (!last) {
      const age = this.clock.now().getTime() - reservation.recordedAt.getTime();
      return age < RESERVATION_TTL_MS
        ? { documentId, version: 1, position: reservation.position }
        : undefined;
    }
    const ended = events.some((e) => e.type === 'DocumentRetired' || e.type === 'DocumentErased');
    return ended ? undefined : { documentId, version: last.streamPosition, position: last.position };
  }
}
