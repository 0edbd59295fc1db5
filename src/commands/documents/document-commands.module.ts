import { Module, type DynamicModule } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { APP_CONFIG, extractionMemoryMb, type AppConfig } from '../../infrastructure/config/config.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import { EVENT_STORE, type EventStore } from '../../infrastructure/event-store/event-store.js';
import {
  DOCUMENT_DIRECTORY,
  type DocumentDirectory,
} from '../../infrastructure/documents/document-directory.js';
import { TEXT_EXTRACTOR } from '../../infrastructure/extraction/extraction.js';
import { WorkerTextExtractor } from '../../infrastructure/extraction/worker-extractor.js';
import { measuredExtractor } from '../../infrastructure/extraction/measured-extractor.js';
import { Metrics } from '../../infrastructure/metrics/metrics.js';
import { EditDocumentHandler } from '../edit-document/edit-document.js';
import { EraseDocumentHandler } from '../erase-document/erase-document.js';
import { ReplaceFileHandler } from '../replace-file/replace-file.js';
import { CoachesController, RestoreCoachHandler } from '../restore-coach/restore-coach.js';
import { RetireDocumentHandler } from '../retire-document/retire-document.js';
import { RollBackDocumentHandler } from '../rollback-document/rollback-document.js';
import { ImportsController } from '../import-csv/imports.controller.js';
import { ImportFileHandler } from '../import-file/import-file.js';
import { ImportUrlHandler } from '../import-url/import-url.js';
import { RefreshUrlSourceHandler } from '../import-url/refresh-url.js';
import { UrlRefreshScheduler } from '../import-url/url-refresh.scheduler.js';
import { AddressPolicy } from '../../infrastructure/fetch/address-policy.js';
import { URL_FETCHER, UrlFetcher } from '../../infrastructure/fetch/url-fetcher.js';
import { UploadDocumentHandler } from '../upload-document/upload-document.js';
import { UploadDocumentsHandler } from '../upload-document/upload-documents.js';
import { DocumentStreams } from './document-stream.js';
import { IngestGate } from '../../infrastructure/http/ingest-gate.js';
import { MAX_CONTENT_CHARS } from '../../domain/schemas.js';
import { noReservations, SOURCE_RESERVATIONS, StreamReservations } from './source-reservations.js';
import { DocumentsController } from './documents.controller.js';

/**
 * The document commands: their HTTP edge, their handlers, and extraction in worker threads. What they read of the
 * documents read model comes through the DocumentDirectory port, implemented on the query side and handed in by
 * the app module.
 */
@Module({})
export class DocumentCommandsModule {
  static forRoot(directory: DocumentDirectory): DynamicModule {
    return {
      module: DocumentCommandsModule,
      imports: [
        MulterModule.registerAsync({
          inject: [APP_CONFIG],
          // One file, checked while it streams in; a few small fields beside it. The client's file name is kept
          // as sent (preservePath) so that a name with a path in it is refused rather than silently trimmed.
          // File names come as UTF-8 (as browsers and fetch send them), not multer's default latin1.
          useFactory: (config: AppConfig) => ({
            preservePath: true,
            defParamCharset: 'utf8',
            limits: {
              fileSize: config.MAX_UPLOAD_BYTES,
              files: 1,
              fields: 10,
              fieldSize: 64 * 1024,
              parts: 12,
            },
          }),
        }),
      ],
      controllers: [DocumentsController, CoachesController, ImportsController],
      providers: [
        { provide: DOCUMENT_DIRECTORY, useValue: directory },
        IngestGate,
        {
          provide: SOURCE_RESERVATIONS,
          inject: [APP_CONFIG, EVENT_STORE, CLOCK],
          useFactory: (config: AppConfig, store: EventStore, clock: Clock) =>
            config.EVENT_STORE === 'eventstoredb'
              ? new StreamReservations(store, clock, directory)
              : noReservations,
        },
        {
          provide: TEXT_EXTRACTOR,
          inject: [APP_CONFIG, Metrics],
          useFactory: (config: AppConfig, metrics: Metrics) =>
            measuredExtractor(
              new WorkerTextExtractor({
                maxBytes: config.MAX_UPLOAD_BYTES,
                maxPdfPages: config.MAX_PDF_PAGES,
                timeoutMs: config.EXTRACTION_TIMEOUT_MS,
                maxMemoryMb: extractionMemoryMb(config),
                maxUncompressedBytes: 4 * config.MAX_UPLOAD_BYTES,
                ocrMaxPages: config.OCR_MAX_PAGES,
                ocrTimeoutMs: config.OCR_TIMEOUT_MS,
                maxTextChars: MAX_CONTENT_CHARS,
              }),
              metrics,
            ),
        },
        {
          provide: URL_FETCHER,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) =>
            new UrlFetcher(new AddressPolicy(config.URL_FETCH_ALLOW_HOSTS), {
              maxBytes: config.MAX_UPLOAD_BYTES,
              timeoutMs: config.URL_FETCH_TIMEOUT_MS,
              maxRedirects: 5,
            }),
        },
        DocumentStreams,
        UploadDocumentHandler,
        UploadDocumentsHandler,
        ImportFileHandler,
        ImportUrlHandler,
        RefreshUrlSourceHandler,
        UrlRefreshScheduler,
        EditDocumentHandler,
        ReplaceFileHandler,
        RollBackDocumentHandler,
        RetireDocumentHandler,
        EraseDocumentHandler,
        RestoreCoachHandler,
      ],
    };
  }
}
