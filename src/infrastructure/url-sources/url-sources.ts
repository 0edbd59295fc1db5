import type { SqlExecutor } from '../sql/sql-client.js';
import type { Validators } from '../fetch/url-fetcher.js';

/** A URL source's schedule and its last outcomes (migration 0017). */
export interface UrlSource {
  documentId: string;
  coachId: string;
  url: string;
  refreshIntervalDays: number;
  lastFetchedAt: string | null;
  lastChangedAt: string | null;
  nextRefreshAt: string;
  failures: number;
  lastError: { code: string; message: string; at: string } | null;
}

/** A source the refresh has claimed: what its fetch needs. */
export interface DueSource {
  documentId: string;
  url: string;
  validators: Validators;
}

/** A claimed source comes back to the queue after this long if its runner died. */
const LEASE = "interval '15 minutes'";
/** After a failure: 1 h, 2 h, 4 h, … but never later than the source's own interval. */
const BACKOFF = `LEAST(interval '1 hour' * power(2, LEAST(failures, 20)), make_interval(days => refresh_interval_days))`;

const columns = (u: string) =>
  `${u}.document_id::text, ${u}.coach_id, ${u}.url, ${u}.refresh_interval_days, ${u}.last_fetched_at,
   ${u}.last_changed_at, ${u}.next_refresh_at, ${u}.failures, ${u}.last_error_code, ${u}.last_error,
   ${u}.last_attempt_at`;
const COLUMNS = columns('url_sources');

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
function sourceOf(r: Record<string, unknown>): UrlSource {
  return {
    documentId: String(r.document_id),
    coachId: String(r.coach_id),
    url: String(r.url),
    refreshIntervalDays: Number(r.refresh_interval_days),
    lastFetchedAt: iso(r.last_fetched_at),
    lastChangedAt: iso(r.last_changed_at),
    nextRefreshAt: iso(r.next_refresh_at)!,
    failures: Number(r.failures),
    lastError: r.last_error_code
      ? { code: String(r.last_error_code), message: String(r.last_error), at: iso(r.last_attempt_at)! }
      : null,
  };
}

/**
 * The url_sources table: written with a URL document's upload (in its transaction), by each refresh, and cleared
 * by an erasure. Times come from the service's clock (`now`), never the database's, so a test's clock drives it.
 */
export const urlSources = {
  async insert(
    tx: SqlExecutor,
    s: {
      documentId: string;
      coachId: string;
      url: string;
      refreshIntervalDays: number;
      validators: Validators;
    },
    now: Date,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO url_sources (document_id, coach_id, url, refresh_interval_days, etag, last_modified, created_at,
         last_fetched_at, last_changed_at, next_refresh_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $7::timestamptz + make_interval(days => $4))`,
      [
        s.documentId,
        s.coachId,
        s.url,
        s.refreshIntervalDays,
        s.validators.etag ?? null,
        s.validators.lastModified ?? null,
        now,
      ],
    );
  },

  async find(on: SqlExecutor, coachId: string, url: string): Promise<UrlSource | undefined> {
    const { rows } = await on.query(`SELECT ${COLUMNS} FROM url_sources WHERE coach_id = $1 AND url = $2`, [
      coachId,
      url,
    ]);
    return rows[0] ? sourceOf(rows[0] as Record<string, unknown>) : undefined;
  },

  async ofDocument(on: SqlExecutor, documentId: string): Promise<UrlSource | undefined> {
    const { rows } = await on.query(`SELECT ${COLUMNS} FROM url_sources WHERE document_id = $1`, [
      documentId,
    ]);
    return rows[0] ? sourceOf(rows[0] as Record<string, unknown>) : undefined;
  },

  /** Up to `limit` due sources of active documents, each leased to this runner: no other process takes them. */
  async claimDue(on: SqlExecutor, now: Date, limit: number): Promise<DueSource[]> {
    const { rows } = await on.query<{
      document_id: string;
      url: string;
      etag: string | null;
      last_modified: string | null;
    }>(
      `UPDATE url_sources s SET next_refresh_at = $1::timestamptz + ${LEASE}
       WHERE s.document_id IN (
         SELECT u.document_id FROM url_sources u JOIN documents d ON d.document_id = u.document_id
         WHERE u.next_refresh_at <= $1 AND d.status = 'active'
         ORDER BY u.next_refresh_at LIMIT $2 FOR UPDATE OF u SKIP LOCKED)
       RETURNING s.document_id::text, s.url, s.etag, s.last_modified`,
      [now, limit],
    );
    return rows.map((r) => ({
      documentId: r.document_id,
      url: r.url,
      validators: {
        ...(r.etag ? { etag: r.etag } : {}),
        ...(r.last_modified ? { lastModified: r.last_modified } : {}),
      },
    }));
  },

  /** A fetch that worked: new validators, no failures, due again after the interval; `changed` if a version was made. */
  async fetched(
    on: SqlExecutor,
    documentId: string,
    now: Date,
    validators: Validators | undefined,
    changed: boolean,
  ) {
    await on.query(
      `UPDATE url_sources SET last_fetched_at = $2, last_attempt_at = $2,
         last_changed_at = CASE WHEN $5::boolean THEN $2 ELSE last_changed_at END,
         etag = CASE WHEN $6::boolean THEN $3 ELSE etag END,
         last_modified = CASE WHEN $6::boolean THEN $4 ELSE last_modified END,
         failures = 0, last_error_code = NULL, last_error = NULL,
         next_refresh_at = $2::timestamptz + make_interval(days => refresh_interval_days)
       WHERE document_id = $1`,
      [
        documentId,
        now,
        validators?.etag ?? null,
        validators?.lastModified ?? null,
        changed,
        validators !== undefined,
      ],
    );
  },

  async failed(on: SqlExecutor, documentId: string, now: Date, code: string, message: string): Promise<void> {
    await on.query(
      `UPDATE url_sources SET failures = failures + 1, last_error_code = $3, last_error = $4, last_attempt_at = $2,
         next_refresh_at = $2::timestamptz + ${BACKOFF}
       WHERE document_id = $1`,
      [documentId, now, code, message.slice(0, 1000)],
    );
  },

  async remove(tx: SqlExecutor, documentId: string): Promise<void> {
    await tx.query('DELETE FROM url_sources WHERE document_id = $1', [documentId]);
  },

  /** For GET /admin/sources: in document id order, a page after `cursor` (a document id), optionally one coach's. */
  async list(on: SqlExecutor, f: { coachId?: string; failing?: boolean; limit: number; cursor?: string }) {
    const { rows } = await on.query(
      `SELECT ${columns('u')}, d.title, d.status FROM url_sources u JOIN documents d USING (document_id)
       WHERE ($1::text IS NULL OR u.coach_id = $1) AND (NOT $2::boolean OR u.failures > 0)
         AND ($3::uuid IS NULL OR u.document_id > $3::uuid)
       ORDER BY u.document_id LIMIT $4`,
      [f.coachId ?? null, f.failing ?? false, f.cursor ?? null, f.limit + 1],
    );
    const items = rows.slice(0, f.limit).map((r) => {
      const row = r as Record<string, unknown>;
      return { ...sourceOf(row), title: row.title as string | null, status: String(row.status) };
    });
    return { items, nextCursor: rows.length > f.limit ? items[items.length - 1]!.documentId : null };
  },
};
