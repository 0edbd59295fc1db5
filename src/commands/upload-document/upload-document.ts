import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DocumentMetadata, Snapshot } from '../../domain/document/document.js';
import type { Principal } from '../../domain/access.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { parseWith, ValidationFailedError } from '../../infrastructure/http/validation.js';
import { assertCoach } from '../../domain/access.js';
import { DocumentWriter, type WriteResult } from '../documents/document-writer.js';
import { jsonUploadSchema, multipartUploadSchema } from '../documents/schemas.js';
import { markdownSections, normaliseText, safeFilename, snapshotFromFile } from '../documents/snapshot.js';

export interface UploadedFile {
  buffer: Buffer;
  originalname?: string;
}

export type UploadResult = WriteResult & { sourceId?: string };

export class UploadDocumentCommand extends Command<UploadResult> {
  constructor(
    readonly principal: Principal,
    readonly body: Record<string, unknown>,
    readonly file: UploadedFile | undefined,
    readonly idempotencyKey: string | undefined,
  ) {
    super();
  }
}

/** POST /documents: a file (multipart) or text (JSON) becomes a new document, unless the same source is active. */
@CommandHandler(UploadDocumentCommand)
export class UploadDocumentHandler implements ICommandHandler<UploadDocumentCommand, UploadResult> {
  constructor(
    @Inject(DocumentWriter) private readonly writer: DocumentWriter,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
  ) {}

  async execute({ principal, body, file, idempotencyKey }: UploadDocumentCommand): Promise<UploadResult> {
    const { coachId, snapshot, sourceSha256, sourceType, bytes } = file
      ? await this.fromFile(body, file)
      : this.fromJson(body);
    assertCoach(principal, coachId);
    const documentId = randomUUID();
    const sourceId = randomUUID();
    const result = await this.writer.execute(
      { type: 'UploadDocument', documentId, coachId, sourceId, sourceType, snapshot },
      {
        actor: principal.keyId,
        idempotencyKey,
        dedupe: { coachId, sourceSha256 },
        file: bytes && snapshot.file ? { bytes, contentType: snapshot.file.contentType } : undefined,
      },
    );
    return result.duplicate ? result : { ...result, sourceId };
  }

  private fromJson(body: Record<string, unknown>) {
    const input = parseWith(jsonUploadSchema, body, 'body');
    const content = normaliseText(input.content);
    const metadata = { ...input.metadata, title: input.metadata.title ?? input.title } as DocumentMetadata;
    const snapshot: Snapshot = { title: input.title, content, format: input.format, metadata };
    if (input.format === 'markdown') snapshot.sections = markdownSections(content);
    return {
      coachId: input.coachId,
      snapshot,
      sourceSha256: sha256(content),
      sourceType: 'json' as const,
      bytes: undefined,
    };
  }

  private async fromFile(body: Record<string, unknown>, file: UploadedFile) {
    const fields = parseWith(
      multipartUploadSchema,
      { coachId: body.coachId, metadata: parseJsonField(body.metadata) },
      'form',
    );
    const filename = safeFilename(file.originalname);
    const hash = sha256(file.buffer);
    const extracted = await this.extractor.extract(file.buffer, { filename });
    const ref = {
      sha256: hash,
      contentType: extracted.contentType,
      size: file.buffer.byteLength,
      ...(filename ? { filename } : {}),
    };
    const snapshot = snapshotFromFile(extracted, fields.metadata as DocumentMetadata, ref);
    return {
      coachId: fields.coachId,
      snapshot,
      sourceSha256: hash,
      sourceType: 'upload' as const,
      bytes: file.buffer,
    };
  }
}

/** Multipart fields arrive as strings; `metadata` is JSON text. */
export function parseJsonField(value: unknown, path = 'form.metadata'): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ValidationFailedError(`${path} is not valid JSON`, {
      errors: [{ path, message: 'not valid JSON' }],
    });
  }
}
