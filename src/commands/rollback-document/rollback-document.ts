import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DocumentStreams, type WriteResult } from '../documents/document-stream.js';
import { writerOf, type DocumentWrite } from '../documents/write-request.js';

export class RollBackDocumentCommand extends Command<WriteResult> {
  constructor(readonly write: DocumentWrite & { toVersion: number; reason?: string }) {
    super();
  }
}

/** POST /documents/:id/rollback: a new version equal to `toVersion` (and back to life if retired). */
@CommandHandler(RollBackDocumentCommand)
export class RollBackDocumentHandler implements ICommandHandler<RollBackDocumentCommand, WriteResult> {
  constructor(@Inject(DocumentStreams) private readonly docs: DocumentStreams) {}

  async execute({ write }: RollBackDocumentCommand): Promise<WriteResult> {
    const doc = await this.docs.visible(write.principal, write.documentId);
    const { toVersion, reason } = write;
    const command = { type: 'RollBackDocument' as const, documentId: doc.documentId, toVersion, reason };
    return this.docs.write(doc, writerOf(write), command);
  }
}
