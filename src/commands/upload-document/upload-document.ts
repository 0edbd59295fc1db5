import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { assertCoach, type Principal } from '../../domain/access.js';
import type { DocumentMetadata, Snapshot, SourceType } from '../../domain/document/document.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import { uuidFrom } from '../../infrastructure/event-store/canonical-json.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { DocumentStreams, storeFile, type WriteResult } from '../documents/document-stream.js';
import { markdownSections, normaliseText, snapshotOfFile } from '../documents/snapshot.js';
import type { IncomingFile } from '../replace-file/replace-file.js';

export type UploadSource =
  | { kind: 'text'; title: string; content: string; format: 'text' | 'markdown'; metadata: DocumentMetadata }
  | { kind: 'file'; file: IncomingFile; metadata: DocumentMetadata };

export type UploadResult = WriteResult & { sourceId?: string };

export class UploadDocumentCommand extends Command<UploadResult> {
  constructor(
    readonly upload: { principal: Principal; coachId: string; source: UploadSource; idempotencyKey?: string },
  ) {
    super();
  }
}

interface Source {
  snapshot: Snapshot;
  sourceSha256: string;
  sourceType: 'json' | 'upload';
  bytes?: Buffer;
}

/**
 * POST /documents: a file (multipart) or text (JSON) becomes a new document, unless the same source is active.
 * The caller's coach is checked before anything costly (a file's extraction) is done.
 */
@CommandHandler(UploadDocumentCommand)
export class UploadDocumentHandler implements ICommandHandler<UploadDocumentCommand, UploadResult> {
  constructor(
    @Inject(DocumentStreams) private readonly docs: DocumentStreams,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
  ) {}

  async execute({ upload }: UploadDocumentCommand): Promise<UploadResult> {
    const { principal, coachId, source } = upload;
    assertCoach(principal, coachId);
    const { snapshot, sourceSha256, sourceType, bytes } =
      source.kind === 'file' ? await this.fromFile(source) : fromText(source);
    const command = newUpload(coachId, sourceType, snapshot, upload.idempotencyKey);
    const alsoWrite = bytes && snapshot.file ? [storeFile(bytes, snapshot.file.contentType)] : [];
    const writer = { actor: principal.keyId };
    const [outcome] = await this.docs.create(writer, [
      { command, sourceSha256, alsoWrite, idempotencyKey: upload.idempotencyKey },
    ]);
    return outcome!.duplicate ? outcome! : { ...outcome!, sourceId: command.sourceId };
  }

  private async fromFile({ file, metadata }: Extract<UploadSource, { kind: 'file' }>): Promise<Source> {
    const { snapshot, sha256: hash } = await snapshotOfFile(this.extractor, file, metadata);
    return { snapshot, sourceSha256: hash, sourceType: 'upload', bytes: file.bytes };
  }
}

/**
 * An upload command with new ids (the decider never makes them); with an idempotency key, ids derived from it, so
 * that a retry is the same command as its first attempt and gets its answer.
 */
export function newUpload(
  coachId: string,
  sourceType: SourceType,
  snapshot: Snapshot,
  idempotencyKey?: string,
) {
  const [documentId, sourceId] = idempotencyKey
    ? [uuidFrom(idempotencyKey, 'document'), uuidFrom(idempotencyKey, 'source')]
    : [randomUUID(), randomUUID()];
  return { type: 'UploadDocument' as const, documentId, coachId, sourceId, sourceType, snapshot };
}

/** Text becomes a snapshot; its source, for duplicates, is the SHA-256 of the normalised text. */
export function fromText(source: Omit<Extract<UploadSource, { kind: 'text' }>, 'kind'>): Source {
  const content = normaliseText(source.content);
  const metadata = { ...source.metadata, title: source.metadata.title ?? source.title };
  const snapshot: Snapshot = { title: source.title, content, format: source.format, metadata };
  if (source.format === 'markdown') snapshot.sections = markdownSections(content);
  return { snapshot, sourceSha256: sha256(content), sourceType: 'json' };
}
