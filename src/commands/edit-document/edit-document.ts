import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { DocumentStreams, type WriteResult } from '../documents/document-stream.js';
import { writerOf, type DocumentWrite } from '../documents/write-request.js';
import { normaliseText } from '../documents/snapshot.js';

export class EditDocumentCommand extends Command<WriteResult> {
  constructor(
    readonly write: DocumentWrite & {
      content?: string;
      metadata?: Partial<DocumentMetadata>;
      changeSummary?: string;
    },
  ) {
    super();
  }
}

/** PATCH /documents/:id: new text and/or metadata merged into the current ones; no change, no event. */
@CommandHandler(EditDocumentCommand)
export class EditDocumentHandler implements ICommandHandler<EditDocumentCommand, WriteResult> {
  constructor(@Inject(DocumentStreams) private readonly docs: DocumentStreams) {}

  async execute({ write }: EditDocumentCommand): Promise<WriteResult> {
    const doc = await this.docs.visible(write.principal, write.documentId);
    const { content, metadata, changeSummary } = write;
    const command = {
      type: 'EditDocument' as const,
      documentId: doc.documentId,
      content: content === undefined ? undefined : normaliseText(content),
      metadata,
      changeSummary,
    };
    return this.docs.write(doc, writerOf(write), command);
  }
}
