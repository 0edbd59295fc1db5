import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DocumentState } from '../../domain/document/document.decider.js';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { DocumentStreams, storeFile, type WriteResult } from '../documents/document-stream.js';
import { snapshotFromFile } from '../documents/snapshot.js';
import { writerOf, type DocumentWrite } from '../documents/write-request.js';

/** A file as the edge took it in: its bytes and its checked, plain name. */
export interface IncomingFile {
  bytes: Buffer;
  filename?: string;
}

export class ReplaceFileCommand extends Command<WriteResult> {
  constructor(readonly write: DocumentWrite & { file: IncomingFile; changeSummary?: string }) {
    super();
  }
}

/** The metadata a new file keeps: the document's current one (the decider refuses a retired or erased one). */
const metadataOf = (state: DocumentState): DocumentMetadata =>
  state.status === 'active' || state.status === 'retired'
    ? state.current.metadata
    : { documentType: 'research', tags: [], accessTier: 'premium' };

/** PUT /documents/:id/file: a new file for the same document, its metadata kept, as a new version. */
@CommandHandler(ReplaceFileCommand)
export class ReplaceFileHandler implements ICommandHandler<ReplaceFileCommand, WriteResult> {
  constructor(
    @Inject(DocumentStreams) private readonly docs: DocumentStreams,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
  ) {}

  async execute({ write }: ReplaceFileCommand): Promise<WriteResult> {
    const doc = await this.docs.visible(write.principal, write.documentId);
    const { bytes, filename } = write.file;
    const extracted = await this.extractor.extract(bytes, { filename });
    const ref = { sha256: sha256(bytes), contentType: extracted.contentType, size: bytes.byteLength };
    const file = { ...ref, ...(filename ? { filename } : {}) };
    const command = (state: DocumentState) => ({
      type: 'ReplaceFile' as const,
      documentId: doc.documentId,
      snapshot: snapshotFromFile(extracted, metadataOf(state), file),
      changeSummary: write.changeSummary,
    });
    return this.docs.write(doc, writerOf(write), command, storeFile(bytes, ref.contentType));
  }
}
