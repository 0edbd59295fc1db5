import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { visibleDocument } from '../documents/authorize.js';
import { DocumentWriter, type WriteResult } from '../documents/document-writer.js';
import { expectedVersionOf, type WriteRequest } from '../documents/write-request.js';
import { editSchema } from '../documents/schemas.js';
import { normaliseText } from '../documents/snapshot.js';

export class EditDocumentCommand extends Command<WriteResult> {
  constructor(readonly request: WriteRequest) {
    super();
  }
}

/** PATCH /documents/:id: new text and/or metadata merged into the current ones; no change, no event. */
@CommandHandler(EditDocumentCommand)
export class EditDocumentHandler implements ICommandHandler<EditDocumentCommand, WriteResult> {
  constructor(
    @Inject(DocumentWriter) private readonly writer: DocumentWriter,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async execute({ request }: EditDocumentCommand): Promise<WriteResult> {
    const body = parseWith(editSchema, request.body, 'body');
    const doc = await visibleDocument(this.sql, request.principal, request.documentId);
    const result = await this.writer.execute(
      {
        type: 'EditDocument',
        documentId: doc.documentId,
        content: body.content === undefined ? undefined : normaliseText(body.content),
        metadata: body.metadata as Partial<DocumentMetadata> | undefined,
        changeSummary: body.changeSummary,
      },
      {
        actor: request.principal.keyId,
        idempotencyKey: request.idempotencyKey,
        expectedVersion: expectedVersionOf(request, body.expectedVersion),
      },
    );
    return result.changed ? result : { ...result, position: doc.position };
  }
}
