import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { visibleDocument } from '../documents/authorize.js';
import { DocumentWriter, type WriteResult } from '../documents/document-writer.js';
import { rollbackSchema } from '../documents/schemas.js';
import { expectedVersionOf, type WriteRequest } from '../documents/write-request.js';

export class RollBackDocumentCommand extends Command<WriteResult> {
  constructor(readonly request: WriteRequest) {
    super();
  }
}

/** POST /documents/:id/rollback: a new version equal to `toVersion` (and back to life if retired). */
@CommandHandler(RollBackDocumentCommand)
export class RollBackDocumentHandler implements ICommandHandler<RollBackDocumentCommand, WriteResult> {
  constructor(
    @Inject(DocumentWriter) private readonly writer: DocumentWriter,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async execute({ request }: RollBackDocumentCommand): Promise<WriteResult> {
    const body = parseWith(rollbackSchema, request.body, 'body');
    const doc = await visibleDocument(this.sql, request.principal, request.documentId);
    const result = await this.writer.execute(
      {
        type: 'RollBackDocument',
        documentId: doc.documentId,
        toVersion: body.toVersion,
        reason: body.reason,
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
