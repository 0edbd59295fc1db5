import { Inject, Logger } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ErasureLedger } from '../../infrastructure/backup/backup.scheduler.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { DocumentStreams, type WriteResult } from '../documents/document-stream.js';
import { writerOf, type DocumentWrite } from '../documents/write-request.js';

export class EraseDocumentCommand extends Command<WriteResult> {
  constructor(readonly write: Omit<DocumentWrite, 'expectedVersion'> & { reason: string }) {
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
    @Inject(DocumentStreams) private readonly docs: DocumentStreams,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(ErasureLedger) private readonly ledger: ErasureLedger,
  ) {}

  async execute({ write }: EraseDocumentCommand): Promise<WriteResult> {
    const doc = await this.docs.visible(write.principal, write.documentId);
    const command = { type: 'EraseDocument' as const, documentId: doc.documentId, reason: write.reason };
    const result = await this.docs.write(doc, writerOf(write), command);
    await this.ledger.recorded();
    // Deleted rows linger in table pages until vacuumed; vacuum now rather than whenever autovacuum gets there.
    await this.sql
      .exec('VACUUM document_keys, documents, document_versions, files')
      .catch((error: unknown) =>
        this.logger.warn(`vacuum after erasure failed: ${(error as Error).message}`),
      );
    return result;
  }
}
