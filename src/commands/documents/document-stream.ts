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
  sourceKey,
  type DocumentHead,
  type ExistingSource,
  type PathDocument,
} from '../../infrastructure/documents/document-directory.js';
import {
  decodeDocumentEvent,
  documentStreamId,
  encodeDocumentEvent,
} from '../../infrastructure/documents/document-events.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import { fileStore } from '../../infrastructure/documents/file-store.js';
import { urlSources } from '../../infrastructure/url-sources/url-sources.js';
import { EVENT_STORE, type EventStore } from '../../infrastructure/event-store/event-store.js';
import { SQL_CLIENT, type SqlClient, type SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import {
  handleCommand,
  handleCommands,
  type AlsoWrite,
  type CommandOptions,
  type CommandOutcome,
  type CommandResult,
  type EventCodec,
} from '../handle-command.js';
import { noReservations, SOURCE_RESERVATIONS, type SourceReservations } from './source-reservations.js';

/**
 * handleCommand's options for a document's stream. Its events are sealed with a key of its own (crypto-shredding):
 * the upload stores the new key, the erasure destroys it, in the transaction of their events; a file is stored in
 * that transaction too, and an upload of a source the coach already has is refused there, under a lock.
 */
const streamOf = documentStreamId;

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

/** The codec of a stream sealed with `key` (a new document's events are encoded only). */
const sealedWith = (key: Buffer | undefined): EventCodec<DocumentEvent> => ({
  decode: (e) => decodeDocumentEvent(e, key),
  encode: (e) => encodeDocumentEvent(e, key ?? documentKeys.newKey()),
});

/** An existing document's codec (its stored key), and the key's own write: destroyed on erasure. */
async function sealedWithDocumentKey(on: SqlExecutor, documentId: string) {
  const stored = (await documentKeys.load(on, [documentId])).get(documentId);
  const keyWrite: AlsoWrite<DocumentEvent> = async (tx, events) => {
    if (events.some((e) => e.type === 'DocumentErased')) {
      await documentKeys.destroy(tx, documentId);
      await urlSources.remove(tx, documentId);
    }
  };
  return { codec: sealedWith(stored), keyWrite };
}

/** The original bytes, stored by hash if and only if the event that references them is appended. */
export const storeFile =
  (bytes: Uint8Array, contentType: string): AlsoWrite<DocumentEvent> =>
  async (tx) => {
    await fileStore.put(tx, bytes, contentType);
  };

/** A new document: its upload command (its id made by the caller), its source, and writes of its own (a file). */
export interface NewDocument {
  command: Extract<DocumentCommand, { type: 'UploadDocument' }>;
  sourceSha256: string;
  alsoWrite?: Array<AlsoWrite<DocumentEvent>>;
  idempotencyKey?: string;
}

/** Why an upload was not appended: its source is active for the coach, or came earlier in the same batch. */
export type Duplicate = { existing: ExistingSource } | { sameAs: number };

/** A new document's outcome: created, or the document that already has its source (duplicate). */
export type CreateOutcome = (CommandResult & { documentId: string; duplicate?: false }) | DuplicateResult;
export type DuplicateResult = ExistingSource & { changed: false; duplicate: true };

/**
 * Uploads of one source for one coach take turns on a transaction lock, so two at once cannot both be new; so do
 * imports of one path. A batch takes the locks of all its sources and paths in one statement, in the locks' order
 * (two batches cannot deadlock), and only then looks them up: a lookup in the same statement would read the
 * documents as they were before it waited for a lock.
 */
const refuseDuplicates =
  (directory: DocumentDirectory, reservations: SourceReservations, uploads: readonly NewDocument[]) =>
  async (tx: SqlExecutor): Promise<Array<Duplicate | undefined>> => {
    const sources = uploads.map((u) => ({ coachId: u.command.coachId, sourceSha256: u.sourceSha256 }));
    const paths = uploads.flatMap(({ command: c }) =>
      c.sourcePath ? [pathKey(c.coachId, c.sourcePath)] : [],
    );
    await tx.query(
      `SELECT pg_advisory_xact_lock(h) FROM (
         SELECT DISTINCT hashtextextended('docsvc:source:' || s, 0) AS h FROM jsonb_array_elements_text($1::jsonb) s
         ORDER BY h) locks`,
      [JSON.stringify([...sources.map(sourceKey), ...paths])],
    );
    const existing = await directory.activeWithSources(tx, sources);
    const atPaths = await existingPaths(directory, tx, uploads);
    const first = new Map<string, number>();
    const refusals = sources.map((source, i): Duplicate | undefined => {
      const { coachId, sourcePath } = uploads[i]!.command;
      const atPath = sourcePath ? atPaths.get(pathKey(coachId, sourcePath)) : undefined;
      if (atPath) return { existing: atPath };
      const key = sourceKey(source);
      const found = existing.get(key);
      if (found) return { existing: found };
      if (first.has(key)) return { sameAs: first.get(key)! };
      first.set(key, i);
      return undefined;
    });
    for (const [i, source] of sources.entries()) {
      if (refusals[i]) continue;
      const holder = await reservations.reserve(tx, source, uploads[i]!.command.documentId);
      if (holder) refusals[i] = { existing: holder };
    }
    return refusals;
  };

const pathKey = (coachId: string, path: string) => `path:${coachId}:${path}`;

/** The documents already at the batch's paths (a concurrent import of the same path got there first). */
async function existingPaths(directory: DocumentDirectory, tx: SqlExecutor, uploads: readonly NewDocument[]) {
  const byCoach = new Map<string, string[]>();
  for (const { command: c } of uploads)
    if (c.sourcePath) byCoach.set(c.coachId, [...(byCoach.get(c.coachId) ?? []), c.sourcePath]);
  const found = new Map<string, ExistingSource>();
  for (const [coachId, paths] of byCoach)
    for (const [path, { documentId, version, position }] of await directory.withSourcePaths(
      tx,
      coachId,
      paths,
    ))
      found.set(pathKey(coachId, path), { documentId, version, position });
  return found;
}

/** What the document command handlers share: the store, the read port, and the options of a document's stream. */
@Injectable()
export class DocumentStreams {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DOCUMENT_DIRECTORY) readonly directory: DocumentDirectory,
    @Inject(SOURCE_RESERVATIONS) private readonly reservations: SourceReservations = noReservations,
  ) {}

  visible(principal: Principal, documentId: string): Promise<DocumentHead> {
    return visibleDocument(this.directory, this.sql, principal, documentId);
  }

  /** The coach's document imported from this path, if any (an erased one gave its path up). */
  async atPath(coachId: string, sourcePath: string): Promise<PathDocument | undefined> {
    return (await this.directory.withSourcePaths(this.sql, coachId, [sourcePath])).get(sourcePath);
  }

  /**
   * New documents (uploads), one or many, in one transaction: each sealed with a key of its own (all stored in one
   * statement), none whose source is already active for its coach (the outcome names that document).
   */
  async create(writer: Writer, uploads: readonly NewDocument[]): Promise<CreateOutcome[]> {
    const keys = uploads.map(() => documentKeys.newKey());
    const occurredAt = this.clock.now();
    const outcomes = await handleCommands(
      this.store,
      documentDecider,
      uploads.map((upload, i) => ({
        streamId: streamOf(upload.command.documentId),
        command: upload.command,
        options: {
          actor: writer.actor,
          idempotencyKey: upload.idempotencyKey,
          occurredAt,
          newStream: true,
          codec: sealedWith(keys[i]!),
          alsoWrite: upload.alsoWrite,
        },
      })),
      {
        admit: refuseDuplicates(this.directory, this.reservations, uploads),
        alsoWrite: (tx, appended) =>
          documentKeys.insertMany(
            tx,
            appended.map(({ index }) => ({
              documentId: uploads[index]!.command.documentId,
              key: keys[index]!,
            })),
          ),
      },
    );
    return outcomes.map((outcome, i) => this.created(uploads, outcomes, outcome, i));
  }

  private created(
    uploads: readonly NewDocument[],
    all: ReadonlyArray<CommandOutcome<Duplicate>>,
    outcome: CommandOutcome<Duplicate>,
    i: number,
  ): CreateOutcome {
    if (!('refused' in outcome)) return { documentId: uploads[i]!.command.documentId, ...outcome };
    const { refused } = outcome;
    if ('existing' in refused) return { ...refused.existing, changed: false, duplicate: true };
    const first = all[refused.sameAs] as CommandResult;
    const documentId = uploads[refused.sameAs]!.command.documentId;
    return { documentId, version: first.version, position: first.position!, changed: false, duplicate: true };
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
    const options = await this.options(doc.documentId, writer, alsoWrite);
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
  ): Promise<CommandOptions<DocumentEvent>> {
    const { codec, keyWrite } = await sealedWithDocumentKey(this.sql, documentId);
    return { ...writer, occurredAt: this.clock.now(), codec, alsoWrite: [...alsoWrite, keyWrite] };
  }
}
