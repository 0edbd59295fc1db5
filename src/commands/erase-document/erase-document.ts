import { Inject, Logger } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { visibleDocument } from '../documents/authorize.js';
import { DocumentWriter, type WriteResult } from '../documents/document-writer.js';
import { eraseSchema } from '../documents/schemas.js';
import type { WriteRequest } from '../documents/write-request.js';

export class EraseDocumentCommand extends Command<WriteResult> {
  constructor(readonly request: WriteRequest) {
    super();
  }
}

/**
 * POST /documents/:id/erase (admin): the key that sealed the document's events is destroyed, its read-model text
 * and unshared files deleted, in one transaction with the DocumentErased event that records who and why.
 */
@CommandHandler(EraseDocumentCommand)
export class EraseDocumentHandler implements ICommandHandler<EraseDocumentCommand, WriteResult> {
  private readonly logger = new Logger('erase');

  constructor(
    @Inject(DocumentWriter) private readonly writer: DocumentWriter,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async execute({ request }: EraseDocumentCommand): Promise<WriteResult> {
    const body = parseWith(eraseSchema, request.body, 'body');
    const doc = await visibleDocument(this.sql, request.principal, request.documentId);
    const result = await this.writer.execute(
      { type: 'EraseDocument', documentId: doc.documentId, reason: body.reason },
      { actor: request.principal.keyId, idempotencyKey: request.idempotencyKey },
    );
    // Deleted rows linger in table pages until vacuumed; vacuum now rather than whenever autovacuum gets there.
    await this.sql
      .exec('VACUUM document_keys, documents, document_versions, files')
      .catch((error: unknown) =>
        this.logger.warn(`vacuum after erasure failed: ${(error as Error).message}`),
      );
    return result.changed ? result : { ...result, position: doc.position };
  }
}
