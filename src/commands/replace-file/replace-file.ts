import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { documentDecider } from '../../domain/document/document.decider.js';
import { fold } from '../../domain/decider.js';
import { decodeDocumentEvent } from '../../infrastructure/documents/document-events.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import { EVENT_STORE, type EventStore } from '../../infrastructure/event-store/event-store.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { parseWith, ValidationFailedError } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { visibleDocument } from '../documents/authorize.js';
import { DocumentWriter, streamOf, type WriteResult } from '../documents/document-writer.js';
import { replaceFileSchema } from '../documents/schemas.js';
import { safeFilename, snapshotFromFile } from '../documents/snapshot.js';
import type { UploadedFile } from '../upload-document/upload-document.js';
import { expectedVersionOf, type WriteRequest } from '../documents/write-request.js';

export class ReplaceFileCommand extends Command<WriteResult> {
  constructor(
    readonly request: WriteRequest,
    readonly file: UploadedFile | undefined,
  ) {
    super();
  }
}

/** PUT /documents/:id/file: a new file for the same document, its metadata kept, as a new version. */
@CommandHandler(ReplaceFileCommand)
export class ReplaceFileHandler implements ICommandHandler<ReplaceFileCommand, WriteResult> {
  constructor(
    @Inject(DocumentWriter) private readonly writer: DocumentWriter,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
  ) {}

  async execute({ request, file }: ReplaceFileCommand): Promise<WriteResult> {
    if (!file)
      throw new ValidationFailedError('a multipart "file" part is required', {
        errors: [{ path: 'form.file', message: 'required' }],
      });
    const body = parseWith(replaceFileSchema, request.body ?? {}, 'form');
    const doc = await visibleDocument(this.sql, request.principal, request.documentId);
    const filename = safeFilename(file.originalname);
    const extracted = await this.extractor.extract(file.buffer, { filename });
    const current = await this.currentMetadata(doc.documentId);
    const ref = {
      sha256: sha256(file.buffer),
      contentType: extracted.contentType,
      size: file.buffer.byteLength,
      ...(filename ? { filename } : {}),
    };
    const snapshot = snapshotFromFile(extracted, current, ref);
    const result = await this.writer.execute(
      { type: 'ReplaceFile', documentId: doc.documentId, snapshot, changeSummary: body.changeSummary },
      {
        actor: request.principal.keyId,
        idempotencyKey: request.idempotencyKey,
        expectedVersion: expectedVersionOf(request, body.expectedVersion),
        file: { bytes: file.buffer, contentType: extracted.contentType },
      },
    );
    return result.changed ? result : { ...result, position: doc.position };
  }

  private async currentMetadata(documentId: string) {
    const key = (await documentKeys.load(this.sql, [documentId])).get(documentId);
    const events = await this.store.readStream(streamOf(documentId));
    const state = fold(
      documentDecider,
      events.map((e) => decodeDocumentEvent(e, key)),
    );
    return state.status === 'active' || state.status === 'retired'
      ? state.current.metadata
      : { documentType: 'research' as const, tags: [], accessTier: 'premium' as const };
  }
}
