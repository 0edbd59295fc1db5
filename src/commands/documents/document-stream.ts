import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../../domain/access.js';
import {
  documentDecider,
  type DocumentCommand,
  type DocumentEvent,
  type DocumentState,
} from '../../domain/document/document.decider.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import {
  DOCUMENT_DIRECTORY,
  visibleDocument,
  type DocumentDirectory,
  type DocumentHead,
} from '../../infrastructure/documents/document-directory.js';
import { decodeDocumentEvent, encodeDocumentEvent } from '../../infrastructure/documents/document-events.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import { fileStore } from '../../infrastructure/documents/file-store.js';
import { EVENT_STORE, type EventStore } from '../../infrastructure/event-store/event-store.js';
import { SQL_CLIENT, type SqlClient, type SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { handleCommand, type AlsoWrite, type CommandOptions, type CommandResult } from '../handle-command.js';

/**
 * handleCommand's options for a document's stream. Its events are sealed with a key of its own (crypto-shredding):
 * the upload stores the new key, the erasure destroys it, in the transaction of their events; a file is stored in
 * that transaction too, and an upload of a source the coach already has is refused there, under a lock.
 */
const streamOf = (documentId: string) => `document-${documentId}`;

export interface WriteResult extends CommandResult {
  documentId: string;
  duplicate?: boolean;
}

/** Who writes, and what they expect (If-Match) and replay by (Idempotency-Key). */
export interface Writer {
  actor: string;
  expectedVersion?: number;
  idempotencyKey?: string;
}

/**
 * The codec that seals and opens the document's events, and the key's own write (stored on upload, destroyed on
 * erasure). A new document's id was just made, so it has no key to look up.
 */
async function sealedWithDocumentKey(on: SqlExecutor, documentId: string, isNew: boolean) {
  const stored = isNew ? undefined : (await documentKeys.load(on, [documentId])).get(documentId);
  const key = stored ?? documentKeys.newKey();
  const keyWrite: AlsoWrite<DocumentEvent> = async (tx, events) => {
    if (events.some((e) => e.type === 'DocumentUploaded')) await documentKeys.insert(tx, documentId, key);
    if (events.some((e) => e.type === 'DocumentErased')) await documentKeys.destroy(tx, documentId);
  };
  return {
    codec: {
      decode: (e: Parameters<typeof decodeDocumentEvent>[0]) => decodeDocumentEvent(e, stored),
      encode: (e: DocumentEvent) => encodeDocumentEvent(e, key),
    },
    keyWrite,
  };
}

/** The original bytes, stored by hash if and only if the event that references them is appended. */
export const storeFile =
  (bytes: Uint8Array, contentType: string): AlsoWrite<DocumentEvent> =>
  async (tx) => {
    await fileStore.put(tx, bytes, contentType);
  };

/** Thrown (and so rolled back) when the source is already active for the coach: the upload answers with it. */
export class DuplicateUpload extends Error {
  constructor(readonly existing: Pick<DocumentHead, 'documentId' | 'version' | 'position'>) {
    super('duplicate upload');
  }
}

/** Uploads of one source for one coach take turns on a transaction lock, so two at once cannot both be new. */
export const refuseDuplicate =
  (directory: DocumentDirectory, coachId: string, sourceSha256: string): AlsoWrite<DocumentEvent> =>
  async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `docsvc:source:${coachId}:${sourceSha256}`,
    ]);
    const existing = await directory.activeWithSource(tx, coachId, sourceSha256);
    if (existing) throw new DuplicateUpload(existing);
  };

/** What the document command handlers share: the store, the read port, and the options of a document's stream. */
@Injectable()
export class DocumentStreams {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DOCUMENT_DIRECTORY) readonly directory: DocumentDirectory,
  ) {}

  visible(principal: Principal, documentId: string): Promise<DocumentHead> {
    return visibleDocument(this.directory, this.sql, principal, documentId);
  }

  /** A new document's stream (upload): handleCommand with the stream's options. */
  async create(
    documentId: string,
    writer: Writer,
    command: DocumentCommand,
    alsoWrite: Array<AlsoWrite<DocumentEvent>>,
  ): Promise<CommandResult> {
    const options = await this.options(documentId, writer, alsoWrite, true);
    return handleCommand(this.store, documentDecider, streamOf(documentId), command, options);
  }

  /**
   * A command on an existing, visible document: handleCommand with the stream's options; a command that changed
   * nothing answers with the document's current position.
   */
  async write(
    doc: DocumentHead,
    writer: Writer,
    command: DocumentCommand | ((state: DocumentState) => DocumentCommand),
    ...alsoWrite: Array<AlsoWrite<DocumentEvent>>
  ): Promise<WriteResult> {
    const options = await this.options(doc.documentId, writer, alsoWrite, false);
    const result = await handleCommand(
      this.store,
      documentDecider,
      streamOf(doc.documentId),
      command,
      options,
    );
    return { documentId: doc.documentId, ...result, position: result.position ?? doc.position };
  }

  private async options(
    documentId: string,
    writer: Writer,
    alsoWrite: Array<AlsoWrite<DocumentEvent>>,
    isNew: boolean,
  ): Promise<CommandOptions<DocumentEvent>> {
    const { codec, keyWrite } = await sealedWithDocumentKey(this.sql, documentId, isNew);
    return { ...writer, occurredAt: this.clock.now(), codec, alsoWrite: [...alsoWrite, keyWrite] };
  }
}
