import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { AppError } from '../../domain/errors.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import type { DocumentHead } from '../../infrastructure/documents/document-directory.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { Metrics } from '../../infrastructure/metrics/metrics.js';
import { URL_FETCHER, type UrlFetcher } from '../../infrastructure/fetch/url-fetcher.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { urlSources, type DueSource } from '../../infrastructure/url-sources/url-sources.js';
import { DocumentStreams, storeFile } from '../documents/document-stream.js';
import { snapshotOfFetch } from './import-url.js';

/** What a refresh of one source did. */
export type RefreshOutcome = 'not-modified' | 'unchanged' | 'updated' | 'failed' | 'gone';

export class RefreshUrlSourceCommand extends Command<RefreshOutcome> {
  constructor(readonly source: DueSource) {
    super();
  }
}

/** Who the history names for a version the schedule made. */
export const REFRESH_ACTOR = 'system:url-refresh';

/**
 * One URL source fetched again (the schedule claimed it): a 304, or text equal to the document's, records the
 * fetch and appends nothing; new text is a new version (DocumentFileReplaced, the document's metadata kept), its
 * schedule updated in the same transaction. A failure is recorded with its code and backoff; it never throws.
 */
@CommandHandler(RefreshUrlSourceCommand)
export class RefreshUrlSourceHandler implements ICommandHandler<RefreshUrlSourceCommand, RefreshOutcome> {
  constructor(
    @Inject(DocumentStreams) private readonly docs: DocumentStreams,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
    @Inject(URL_FETCHER) private readonly fetcher: UrlFetcher,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(Metrics) private readonly metrics?: Metrics,
  ) {}

  async execute({ source }: RefreshUrlSourceCommand): Promise<RefreshOutcome> {
    try {
      const outcome = await this.refresh(source);
      this.metrics?.imported('url_refresh', outcome.replace('-', '_'));
      return outcome;
    } catch (error) {
      const { code, message } =
        error instanceof AppError ? error : { code: 'FETCH_FAILED', message: (error as Error).message };
      this.metrics?.imported('url_refresh', code);
      await urlSources.failed(this.sql, source.documentId, this.clock.now(), code, message);
      return 'failed';
    }
  }

  private async refresh({ documentId, url, validators }: DueSource): Promise<RefreshOutcome> {
    const doc = await this.current(documentId);
    if (doc?.status !== 'active') return 'gone';
    const fetched = await this.fetcher.fetch(url, validators);
    if (fetched.notModified) {
      await urlSources.fetched(this.sql, documentId, this.clock.now(), undefined, false);
      return 'not-modified';
    }
    // The document's metadata stays (a title given in it too); the fetched file and its text are new.
    const snapshot = await snapshotOfFetch(this.extractor, fetched, doc.metadata);
    if (snapshot.content === doc.content) {
      await urlSources.fetched(this.sql, documentId, this.clock.now(), fetched.validators, false);
      return 'unchanged';
    }
    const now = this.clock.now();
    // At the version compared with: an edit in between is a VERSION_CONFLICT, recorded, and tried again later.
    await this.docs.write(
      doc,
      { actor: REFRESH_ACTOR, expectedVersion: doc.version },
      { type: 'ReplaceFile', documentId, snapshot, changeSummary: `refreshed from ${url}` },
      storeFile(fetched.bytes, snapshot.file!.contentType),
      (tx) => urlSources.fetched(tx, documentId, now, fetched.validators, true),
    );
    return 'updated';
  }

  /** The document as the read model has it now: its head, text and metadata, read together. */
  private async current(documentId: string) {
    const { rows } = await this.sql.query<{
      coach_id: string;
      access_tier: string | null;
      status: DocumentHead['status'];
      version: number;
      position: string;
      content: string | null;
      metadata: DocumentMetadata;
    }>(
      `SELECT coach_id, access_tier, status, version, position, content, metadata FROM documents
       WHERE document_id = $1`,
      [documentId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const head: DocumentHead = {
      documentId,
      coachId: row.coach_id,
      accessTier: row.access_tier,
      status: row.status,
      version: row.version,
      position: row.position,
    };
    return { ...head, content: row.content, metadata: row.metadata };
  }
}
