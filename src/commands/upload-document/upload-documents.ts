import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { assertCoach, type Principal } from '../../domain/access.js';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { DocumentStreams, type CreateOutcome } from '../documents/document-stream.js';
import { fromText, newUpload, type UploadResult } from './upload-document.js';

/** One document as text: what POST /documents takes as JSON. */
export interface TextUpload {
  coachId: string;
  title: string;
  content: string;
  format: 'text' | 'markdown';
  metadata: DocumentMetadata;
}

/** Many text documents at once (an import): one transaction, one notification, the events of single uploads. */
export class UploadDocumentsCommand extends Command<UploadResult[]> {
  constructor(
    readonly batch: { principal: Principal; uploads: readonly TextUpload[]; sourceType: 'json' | 'csv' },
  ) {
    super();
  }
}

/**
 * The bulk form of UploadDocument: the same snapshot, the same decider and events, through the same handler
 * (DocumentStreams.create). A document whose source the coach already has, or which came earlier in the batch, is
 * a duplicate and appends nothing. Every coach is checked before anything is written.
 */
@CommandHandler(UploadDocumentsCommand)
export class UploadDocumentsHandler implements ICommandHandler<UploadDocumentsCommand, UploadResult[]> {
  constructor(@Inject(DocumentStreams) private readonly docs: DocumentStreams) {}

  async execute({ batch }: UploadDocumentsCommand): Promise<UploadResult[]> {
    const { principal, uploads, sourceType } = batch;
    for (const upload of uploads) assertCoach(principal, upload.coachId);
    if (uploads.length === 0) return [];
    const news = uploads.map((upload) => {
      const { snapshot, sourceSha256 } = fromText(upload);
      return { command: newUpload(upload.coachId, sourceType, snapshot), sourceSha256 };
    });
    const outcomes = await this.docs.create({ actor: principal.keyId }, news);
    return outcomes.map((outcome: CreateOutcome, i) =>
      outcome.duplicate ? outcome : { ...outcome, sourceId: news[i]!.command.sourceId },
    );
  }
}
