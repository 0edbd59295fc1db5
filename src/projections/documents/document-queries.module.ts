import { Module } from '@nestjs/common';
import { DiffVersionsHandler, ListVersionsHandler } from '../document-versions/history-queries.js';
import { ChangelogController } from './changelog.controller.js';
import { GetChangelogHandler } from './changelog.query.js';
import { GetDocumentFileHandler, GetDocumentHandler, ListDocumentsHandler } from './document-queries.js';
import { DocumentsReadController } from './documents-read.controller.js';
import { AdminSourcesController, ListUrlSourcesHandler } from './url-sources.query.js';

/** The document reads: current documents, their files, their history and the changelog, from the read models. */
@Module({
  controllers: [DocumentsReadController, ChangelogController, AdminSourcesController],
  providers: [
    GetDocumentHandler,
    GetDocumentFileHandler,
    ListDocumentsHandler,
    ListVersionsHandler,
    DiffVersionsHandler,
    GetChangelogHandler,
    ListUrlSourcesHandler,
  ],
})
export class DocumentQueriesModule {}
