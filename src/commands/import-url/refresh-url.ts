import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DocumentState } from '../../domain/document/document.decider.js';
import { AppError } from '../../domain/errors.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
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
  ) {}

  async execute({ source }: RefreshUrlSourceCommand): Promise<RefreshOutcome> {
    try {
      return await this.refresh(source);
    } catch (error) {
      const { code, message } =
        error instanceof AppError ? error : { code: 'FETCH_FAILED', message: (error as Error).message };
      await urlSources.failed(this.sql, source.documentId, this.clock.now(), code, message);
      return 'failed';
    }
  }

  private async refresh({ documentId, url, validators }: DueSource): Promise<RefreshOutcome> {
    const doc = await this.docs.directory.head(this.sql, documentId);
    if (doc?.status !== 'active') return 'gone';
    const fetched = await this.fetcher.fetch(url, validators);
    if (fetched.notModified) {
      await urlSources.fetched(this.sql, documentId, this.clock.now(), undefined, false);
      return 'not-modified';
    }
    const current = await this.currentContent(documentId);
    const snapshot = await snapshotOfFetch(this.extractor, fetched, {
      documentType: 'research',
      tags: [],
      accessTier: 'premium',
    });
    if (snapshot.content === current) {
      await urlSources.fetched(this.sql, documentId, this.clock.now(), fetched.validators, false);
      return 'unchanged';
    }
    // The document's metadata stays (and a title given in it); the fetched file and its text are new.
    const command = (state: DocumentState) => {
      const metadata = state.status === 'active' ? state.current.metadata : snapshot.metadata;
      const title = metadata.title ?? snapshot.title;
      return {
        type: 'ReplaceFile' as const,
        documentId,
        snapshot: { ...snapshot, metadata, title },
        changeSummary: `refreshed from ${url}`,
      };
    };
    const now = this.clock.now();
    await this.docs.write(
      doc,
      { actor: REFRESH_ACTOR },
      command,
      storeFile(fetched.bytes, snapshot.file!.contentType),
      (tx) => urlSources.fetched(tx, documentId, now, fetched.validators, true),
    );
    return 'updated';
  }

  private async currentContent(documentId: string): Promise<string | null> {
    const { rows } = await this.sql.query<{ content: string | null }>(
      'SELECT content FROM documents WHERE document_id = $1',
      [documentId],
    );
    return rows[0]?.content ?? null;
  }
}
