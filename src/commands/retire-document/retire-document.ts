import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { visibleDocument } from '../documents/authorize.js';
import { DocumentWriter, type WriteResult } from '../documents/document-writer.js';
import { retireSchema } from '../documents/schemas.js';
import { expectedVersionOf, type WriteRequest } from '../documents/write-request.js';

export class RetireDocumentCommand extends Command<WriteResult> {
  constructor(readonly request: WriteRequest) {
    super();
  }
}

/** DELETE /documents/:id: out of search and listings, history kept; a rollback brings it back. */
@CommandHandler(RetireDocumentCommand)
export class RetireDocumentHandler implements ICommandHandler<RetireDocumentCommand, WriteResult> {
  constructor(
    @Inject(DocumentWriter) private readonly writer: DocumentWriter,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async execute({ request }: RetireDocumentCommand): Promise<WriteResult> {
    const body = parseWith(retireSchema, request.body ?? {}, 'body');
    const doc = await visibleDocument(this.sql, request.principal, request.documentId);
    const result = await this.writer.execute(
      { type: 'RetireDocument', documentId: doc.documentId, reason: body.reason },
      {
        actor: request.principal.keyId,
        idempotencyKey: request.idempotencyKey,
        expectedVersion: expectedVersionOf(request, body.expectedVersion),
      },
    );
    return result.changed ? result : { ...result, position: doc.position };
  }
}
