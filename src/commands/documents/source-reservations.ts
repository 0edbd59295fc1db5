import { createHash } from 'node:crypto';
import type { Clock } from '../../infrastructure/clock/clock.js';
import {
  sourceKey,
  type DocumentDirectory,
  type ExistingSource,
  type Source,
} from '../../infrastructure/documents/document-directory.js';
import { documentStreamId, SOURCE_RESERVED } from '../../infrastructure/documents/document-events.js';
import { VersionConflictError } from '../../infrastructure/event-store/errors.js';
import type { EventStore, RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

/**
 * Refuses the second of two concurrent uploads of one source for one coach where the read models cannot: with
 * PostgreSQL, uploads take turns on a transaction lock and the documents read model commits with the upload, so
 * `none` is enough; with EventStoreDB the read model follows the append, so each new source is reserved by an
 * append to a stream of its own, expecting the version read (the server lets one of two such appends through).
 */
export interface SourceReservations {
  /** Reserves `source` for `documentId`, or answers the upload that holds it (reading the read model via `on`). */
  reserve(on: SqlExecutor, source: Source, documentId: string): Promise<ExistingSource | undefined>;
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
    private readonly directory: DocumentDirectory,
  ) {}

  async reserve(on: SqlExecutor, source: Source, documentId: string): Promise<ExistingSource | undefined> {
    const streamId = reservationStream(source);
    for (let attempt = 1; ; attempt++) {
      const last = (await this.store.readStream(streamId)).at(-1);
      const holder = last && (last.data as { documentId: string }).documentId;
      if (last && holder !== documentId) {
        const held = await this.heldBy(on, source, holder!, last);
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
   * Whether the holder still has the source. Its upload not yet in the log: held while the reservation is younger
   * than the TTL (the upload is on its way), given up after. In the log: the read model decides once it has
   * applied the holder's last event (the document may have been retired, erased or given another file since);
   * until then the source counts as held, since the holder is being written at this very moment.
   */
  private async heldBy(
    on: SqlExecutor,
    source: Source,
    holder: string,
    reservation: RecordedEvent,
  ): Promise<ExistingSource | undefined> {
    const last = (await this.store.readStream(documentStreamId(holder))).at(-1);
    if (!last) {
      const age = this.clock.now().getTime() - reservation.recordedAt.getTime();
      return age < RESERVATION_TTL_MS
        ? { documentId: holder, version: 1, position: reservation.position }
        : undefined;
    }
    const head = await this.directory.head(on, holder);
    if (!head || head.version < last.streamPosition)
      return { documentId: holder, version: last.streamPosition, position: last.position };
    return (await this.directory.activeWithSources(on, [source])).get(sourceKey(source));
  }
}
