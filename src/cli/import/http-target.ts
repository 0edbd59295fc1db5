import type { ImportReport } from '../../commands/import-csv/import-csv.js';
import type { ImportFileResult } from '../../commands/import-file/import-file.js';
import type { UploadResult } from '../../commands/upload-document/upload-document.js';
import { CliFailure, EXIT } from '../cli-errors.js';
import { FileFailure } from './folder-files.js';
import type { FileImport, ImportTarget, PathEntry } from './import-target.js';

export interface HttpTargetOptions {
  url: string;
  apiKey?: string;
  /** How long one request may take (a large PDF is extracted while the request waits). */
  timeoutMs?: number;
  /** Attempts of one request answered 429 or 503 before its file counts as failed. */
  attempts?: number;
  /** Injected in tests: how a Retry-After is waited out. */
  wait?: (ms: number) => Promise<void>;
}

interface ListPage {
  items: Array<{ documentId: string; sourcePath?: string }>;
  nextCursor: string | null;
}

const RETRY_STATUSES = new Set([429, 503]);
/** A Retry-After longer than this is waited for this long, then tried again. */
const MAX_RETRY_WAIT_MS = 60_000;

/**
 * A running service over its HTTP API (`--url` / DOCSVC_URL, key from DOCSVC_API_KEY): each file is a
 * `POST /documents` with its `sourcePath`. A 429 or 503 is retried after its Retry-After; a service that cannot
 * be reached at all ends the run (every file would fail the same way).
 */
export class HttpTarget implements ImportTarget {
  readonly where: string;
  private readonly base: URL;

  constructor(private readonly options: HttpTargetOptions) {
    try {
      this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    } catch {
      throw new CliFailure(
        `--url must be the service's address, e.g. http://localhost:3000, not "${options.url}"`,
        EXIT.usage,
      );
    }
    if (!/^https?:$/.test(this.base.protocol))
      throw new CliFailure(`--url must be http or https, not ${this.base.protocol}`, EXIT.usage);
    this.where = this.base.origin;
  }

  async importFile(file: FileImport): Promise<ImportFileResult> {
    const form = new FormData();
    form.set('coachId', file.coachId);
    form.set('sourcePath', file.sourcePath);
    form.set('metadata', JSON.stringify(file.metadata));
    form.set('file', new Blob([file.bytes]), file.filename);
    return this.request<ImportFileResult>('POST', 'documents', () => form);
  }

  /** A whole CSV file in one POST /imports/csv; a file the service refuses as a whole ends the run. */
  async importCsv(bytes: Buffer, filename: string): Promise<ImportReport> {
    const form = new FormData();
    form.set('file', new Blob([bytes]), filename);
    try {
      return await this.request<ImportReport>('POST', 'imports/csv', () => form);
    } catch (error) {
      throw error instanceof FileFailure ? error.forCommand() : error;
    }
  }

  async importUrl(request: {
    coachId: string;
    url: string;
    metadata: Record<string, unknown>;
    refreshIntervalDays?: number;
  }): Promise<UploadResult> {
    return this.request<UploadResult>('POST', 'documents/from-url', () => JSON.stringify(request));
  }

  async activePaths(coachId: string): Promise<PathEntry[]> {
    const entries: PathEntry[] = [];
    let cursor: string | null = null;
    do {
      const query: URLSearchParams = new URLSearchParams({ coachId, status: 'active', limit: '100' });
      if (cursor) query.set('cursor', cursor);
      const page: ListPage = await this.request<ListPage>('GET', `documents?${query}`);
      for (const { documentId, sourcePath } of page.items)
        if (sourcePath) entries.push({ documentId, sourcePath });
      cursor = page.nextCursor;
    } while (cursor);
    return entries;
  }

  async retire(documentId: string, reason: string): Promise<void> {
    await this.request('DELETE', `documents/${documentId}`, () => JSON.stringify({ reason }));
  }

  private async request<T>(method: string, path: string, body?: () => FormData | string): Promise<T> {
    const attempts = this.options.attempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      const response = await this.send(method, path, body?.());
      if (RETRY_STATUSES.has(response.status) && attempt < attempts) {
        await response.body?.cancel();
        await (this.options.wait ?? sleep)(retryAfterMs(response.headers.get('retry-after'), attempt));
        continue;
      }
      const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (response.ok) return payload as T;
      if (response.status === 401)
        throw new CliFailure(
          `the service at ${this.where} refused the key (401): set DOCSVC_API_KEY`,
          EXIT.failed,
          'UNAUTHORIZED',
        );
      throw new FileFailure(
        String(payload.code ?? `HTTP_${response.status}`),
        String(payload.detail ?? payload.title ?? response.statusText),
      );
    }
  }

  private async send(method: string, path: string, body: FormData | string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    try {
      return await fetch(new URL(path, this.base), {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 300_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new CliFailure(
        `cannot reach the service at ${this.where} (${cause})`,
        EXIT.failed,
        'UNREACHABLE',
      );
    }
  }
}

/** Retry-After in seconds (or an HTTP date); without one, 1 s, 2 s, 4 s… */
export function retryAfterMs(header: string | null, attempt: number): number {
  const seconds = header === null ? NaN : Number(header);
  const ms = Number.isFinite(seconds)
    ? seconds * 1000
    : header && !Number.isNaN(Date.parse(header))
      ? Date.parse(header) - Date.now()
      : 1000 * 2 ** (attempt - 1);
  return Math.min(Math.max(ms, 0), MAX_RETRY_WAIT_MS);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
