import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DocumentStreams, type WriteResult } from '../documents/document-stream.js';
import { writerOf, type DocumentWrite } from '../documents/write-request.js';

export class RetireDocumentCommand extends Command<WriteResult> {
  constructor(readonly write: DocumentWrite & { reason?: string }) {
    super();
  }
}

/** DELETE /documents/:id: out of search and listings, history kept; a rollback brings it back. */
@CommandHandler(RetireDocumentCommand)
export class RetireDocumentHandler implements ICommandHandler<RetireDocumentCommand, WriteResult> {
  constructor(@Inject(DocumentStreams) private readonly docs: DocumentStreams) {}

  async execute({ write }: RetireDocumentCommand): Promise<WriteResult> {
    const doc = await this.docs.visible(write.principal, write.documentId);
    const command = { type: 'RetireDocument' as const, documentId: doc.documentId, reason: write.reason };
    return this.docs.write(doc, writerOf(write), command);
  }
}
