import { Inject, Injectable } from '@nestjs/common';
import { fold } from '../../domain/decider.js';
import { documentDecider, type DocumentCommand } from '../../domain/document/document.decider.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import { decodeDocumentEvent, encodeDocumentEvent } from '../../infrastructure/documents/document-events.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import { fileStore } from '../../infrastructure/documents/file-store.js';
import { VersionConflictError } from '../../infrastructure/event-store/errors.js';
import { EVENT_STORE, type EventStore } from '../../infrastructure/event-store/event-store.js';
import { SQL_CLIENT, type SqlClient, type SqlExecutor } from '../../infrastructure/sql/sql-client.js';

export const streamOf = (documentId: string) => `document-${documentId}`;

export interface WriteContext {
  actor: string;
  expectedVersion?: number;
  idempotencyKey?: string;
  correlationId?: string;
  /** Bytes to store by hash with the event (uploads, replaced files). */
  file?: { bytes: Uint8Array; contentType: string };
  /** For uploads: the same source already active for this coach makes the upload a duplicate. */
  dedupe?: { coachId: string; sourceSha256: string };
}

export interface WriteResult {
  documentId: string;
  version: number;
  position: string | undefined;
  changed: boolean;
  duplicate?: boolean;
}

class DuplicateFound extends Error {
  constructor(readonly existing: { documentId: string; version: number; position: string }) {
    super('duplicate');
  }
}

/**
 * The document command path: read the stream → decrypt → fold → decide → encrypt → append at the version read,
 * with the file, the new key or the key's destruction committed in the same transaction as the events.
 */
@Injectable()
export class DocumentWriter {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(command: DocumentCommand, ctx: WriteContext): Promise<WriteResult> {
    const { documentId } = command;
    const recorded = await this.store.readStream(streamOf(documentId));
    const version = recorded.at(-1)?.streamPosition ?? 0;
    if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== version) {
      throw new VersionConflictError(streamOf(documentId), ctx.expectedVersion, version);
    }
    const stored = (await documentKeys.load(this.sql, [documentId])).get(documentId);
    const key = stored ?? documentKeys.newKey();
    const state = fold(
      documentDecider,
      recorded.map((e) => decodeDocumentEvent(e, stored)),
    );
    const events = documentDecider.decide(command, state);
    if (events.length === 0) return { documentId, version, position: undefined, changed: false };
    try {
      const result = await this.store.append(
        streamOf(documentId),
        events.map((e) => encodeDocumentEvent(e, key)),
        {
          expectedVersion: version === 0 ? 'no_stream' : version,
          actor: ctx.actor,
          idempotencyKey: ctx.idempotencyKey,
          correlationId: ctx.correlationId,
          occurredAt: this.clock.now(),
          alsoWrite: (tx) => this.alsoWrite(tx, command, key, ctx),
        },
      );
      return { documentId, ...result, changed: true };
    } catch (error) {
      if (error instanceof DuplicateFound) return { ...error.existing, changed: false, duplicate: true };
      throw error;
    }
  }

  private async alsoWrite(
    tx: SqlExecutor,
    command: DocumentCommand,
    key: Buffer,
    ctx: WriteContext,
  ): Promise<void> {
    if (ctx.dedupe) await this.refuseDuplicate(tx, ctx.dedupe);
    if (command.type === 'UploadDocument') await documentKeys.insert(tx, command.documentId, key);
    if (command.type === 'EraseDocument') await documentKeys.destroy(tx, command.documentId);
    if (ctx.file) await fileStore.put(tx, ctx.file.bytes, ctx.file.contentType);
  }

  /** Uploads of one source for one coach take turns on a transaction lock, so two at once cannot both be new. */
  private async refuseDuplicate(
    tx: SqlExecutor,
    dedupe: { coachId: string; sourceSha256: string },
  ): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `docsvc:source:${dedupe.coachId}:${dedupe.sourceSha256}`,
    ]);
    const { rows } = await tx.query<{ document_id: string; version: number; position: string }>(
      `SELECT document_id::text, version, position FROM documents
       WHERE coach_id = $1 AND source_sha256 = $2 AND status = 'active' ORDER BY created_at LIMIT 1`,
      [dedupe.coachId, dedupe.sourceSha256],
    );
    const row = rows[0];
    if (row)
      throw new DuplicateFound({ documentId: row.document_id, version: row.version, position: row.position });
  }
}
