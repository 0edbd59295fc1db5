import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { assertCoach, type Principal } from '../../domain/access.js';
import type { DocumentEvent } from '../../domain/document/document.decider.js';
import type { DocumentMetadata, Snapshot } from '../../domain/document/document.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { Metrics, outcomeOf } from '../../infrastructure/metrics/metrics.js';
import { URL_FETCHER, type UrlFetcher, type Validators } from '../../infrastructure/fetch/url-fetcher.js';
import { urlSources } from '../../infrastructure/url-sources/url-sources.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import type { AlsoWrite } from '../handle-command.js';
import { DocumentStreams, storeFile } from '../documents/document-stream.js';
import { snapshotOfFile } from '../documents/snapshot.js';
import { newUpload, type UploadResult } from '../upload-document/upload-document.js';

/** The refresh interval of a URL source when none is given (the seed's). */
export const DEFAULT_REFRESH_DAYS = 30;

export class ImportUrlCommand extends Command<UploadResult> {
  constructor(
    readonly request: {
      principal: Principal;
      coachId: string;
      url: string;
      metadata: DocumentMetadata;
      refreshIntervalDays?: number;
    },
  ) {
    super();
  }
}

/** The last segment of the URL's path, if it is a plain file name: a label for the stored bytes. */
export function filenameOf(url: string): string | undefined {
  const last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  // eslint-disable-next-line no-control-regex
  return last && last.length <= 255 && !/[\\/\u0000-\u001f\u007f]|\.\./.test(last) ? last : undefined;
}

/** A fetched page or file as a snapshot: a web page's article (Readability), a PDF or DOCX as an upload. */
export async function snapshotOfFetch(
  extractor: TextExtractor,
  fetched: { url: string; bytes: Buffer },
  metadata: DocumentMetadata,
): Promise<Snapshot> {
  const file = { bytes: fetched.bytes, filename: filenameOf(fetched.url) };
  return (await snapshotOfFile(extractor, file, metadata, { readable: true })).snapshot;
}

/**
 * POST /documents/from-url, `docsvc import-url`: the URL is fetched (UrlFetcher's limits and address policy),
 * its text extracted and uploaded as a document of source type `url`, with `metadata.sourceUrl`; the source's
 * schedule is written in the upload's transaction. A URL the coach already has is that document (200, duplicate),
 * as are bytes the coach already has.
 */
@CommandHandler(ImportUrlCommand)
export class ImportUrlHandler implements ICommandHandler<ImportUrlCommand, UploadResult> {
  constructor(
    @Inject(DocumentStreams) private readonly docs: DocumentStreams,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
    @Inject(URL_FETCHER) private readonly fetcher: UrlFetcher,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(Metrics) private readonly metrics?: Metrics,
  ) {}

  async execute({ request }: ImportUrlCommand): Promise<UploadResult> {
    try {
      const result = await this.import(request);
      this.metrics?.imported('url', result.duplicate ? 'duplicate' : 'created');
      return result;
    } catch (error) {
      this.metrics?.imported('url', outcomeOf(error));
      throw error;
    }
  }

  private async import(request: ImportUrlCommand['request']): Promise<UploadResult> {
    const { principal, coachId, url } = request;
    assertCoach(principal, coachId);
    const known = await urlSources.find(this.sql, coachId, url);
    if (known) {
      const head = (await this.docs.directory.head(this.sql, known.documentId))!;
      return {
        documentId: head.documentId,
        version: head.version,
        position: head.position,
        changed: false,
        duplicate: true,
      };
    }
    const fetched = await this.fetcher.fetch(url);
    if (fetched.notModified) throw new Error('a fetch without validators cannot be answered 304');
    const snapshot = await snapshotOfFetch(this.extractor, fetched, { ...request.metadata, sourceUrl: url });
    const command = newUpload(coachId, 'url', snapshot);
    const schedule = this.schedule(command.documentId, request, fetched.validators);
    const [outcome] = await this.docs.create({ actor: principal.keyId }, [
      {
        command,
        sourceSha256: snapshot.file!.sha256,
        alsoWrite: [storeFile(fetched.bytes, snapshot.file!.contentType), schedule],
      },
    ]);
    return outcome!.duplicate ? outcome! : { ...outcome!, sourceId: command.sourceId };
  }

  private schedule(
    documentId: string,
    request: ImportUrlCommand['request'],
    validators: Validators,
  ): AlsoWrite<DocumentEvent> {
    const refreshIntervalDays = request.refreshIntervalDays ?? DEFAULT_REFRESH_DAYS;
    const source = {
      documentId,
      coachId: request.coachId,
      url: request.url,
      refreshIntervalDays,
      validators,
    };
    return (tx) => urlSources.insert(tx, source, this.clock.now());
  }
}
