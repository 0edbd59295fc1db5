import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { createTwoFilesPatch, diffWords } from 'diff';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { DocumentErasedError } from '../../domain/document/errors.js';
import { sameValue } from '../../domain/document/document.js';
import { canSeeTier, type Principal } from '../../domain/access.js';
import { visibleDocument, type DocumentHead } from '../../infrastructure/documents/document-directory.js';
import { documentDirectory } from '../documents/document-directory.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';

export interface VersionEntry {
  version: number;
  change: string;
  changeSummary: string | null;
  actor: string;
  at: string;
  position: string;
  status: string;
  rolledBackTo?: number;
}

/**
 * A version's own tier decides too: a document that is free now may have been premium before. An erasure wipes
 * every earlier version's metadata, tier included, so an unknown tier counts as premium (fail closed); the
 * erasure itself carries the document's tier.
 */
const versionTier = (row: { change: string; metadata: { accessTier?: string } | null }, head: DocumentHead) =>
  row.metadata?.accessTier ?? (row.change === 'erased' ? head.accessTier : 'premium');

export class ListVersionsQuery extends Query<{ documentId: string; versions: VersionEntry[] }> {
  constructor(
    readonly principal: Principal,
    readonly documentId: string,
  ) {
    super();
  }
}

/**
 * GET /documents/:id/versions: every version, oldest first, with what changed, who, when and its position. An
 * erased document's history stays readable (without its summaries, which could hold its text); a free reader
 * does not see the versions in which the document was premium.
 */
@QueryHandler(ListVersionsQuery)
export class ListVersionsHandler implements IQueryHandler<ListVersionsQuery> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute({ principal, documentId }: ListVersionsQuery) {
    const head = await visibleDocument(documentDirectory, this.sql, principal, documentId);
    const { rows } = await this.sql.query<{
      version: number;
      change: string;
      change_summary: string | null;
      actor: string;
      at: Date;
      position: string;
      status: string;
      rolled_back_to: number | null;
      metadata: { accessTier?: string } | null;
    }>(
      `SELECT version, change, change_summary, actor, at, position, status, rolled_back_to, metadata
       FROM document_versions WHERE document_id = $1 ORDER BY version`,
      [documentId],
    );
    const versions = rows
      .filter((r) => canSeeTier(principal, versionTier(r, head)))
      .map((r) => ({
        version: r.version,
        change: r.change,
        changeSummary: r.change_summary,
        actor: r.actor,
        at: r.at.toISOString(),
        position: r.position,
        status: r.status,
        ...(r.rolled_back_to ? { rolledBackTo: r.rolled_back_to } : {}),
      }));
    return { documentId, versions };
  }
}

/** `?from=x` and a missing `to` both reach zod as NaN: one message that says what to send. */
const versionNumber = () =>
  z.coerce.number({ error: '`from` and `to` are required version numbers' }).int().min(1).max(1_000_000_000);

export const diffParamsSchema = z
  .object({
    from: versionNumber(),
    to: versionNumber(),
  })
  .strict();

/** Longest text (each side) that is diffed, and longest a diff may compute; beyond them: DIFF_TOO_LARGE. */
export const DIFF_MAX_CHARS = 2_000_000;
export const DIFF_TIMEOUT_MS = 5_000;

export class DiffTooLargeError extends AppError {
  readonly code = 'DIFF_TOO_LARGE';
  readonly status = 422;
}

export interface DocumentDiff {
  documentId: string;
  from: number;
  to: number;
  unified: string;
  changes: {
    title: { from: string | null; to: string | null } | null;
    metadata: Array<{ field: string; from: unknown; to: unknown }>;
    words: Array<{ op: 'equal' | 'insert' | 'delete'; text: string }>;
  };
}

export class DiffVersionsQuery extends Query<DocumentDiff> {
  constructor(
    readonly principal: Principal,
    readonly documentId: string,
    readonly params: z.infer<typeof diffParamsSchema>,
  ) {
    super();
  }
}

interface VersionText {
  version: number;
  title: string | null;
  content: string | null;
  metadata: Record<string, unknown> | null;
}

/**
 * GET /documents/:id/diff?from=N&to=M: any two versions (not only neighbours, either order): a unified line diff,
 * a word-level diff and the metadata fields that changed.
 */
@QueryHandler(DiffVersionsQuery)
export class DiffVersionsHandler implements IQueryHandler<DiffVersionsQuery, DocumentDiff> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute({ principal, documentId, params }: DiffVersionsQuery): Promise<DocumentDiff> {
    const { from, to } = params;
    const head = await visibleDocument(documentDirectory, this.sql, principal, documentId);
    if (head.status === 'erased') throw new DocumentErasedError(documentId);
    const { rows } = await this.sql.query<VersionText>(
      `SELECT version, title, content, metadata FROM document_versions
       WHERE document_id = $1 AND version IN ($2, $3)`,
      [documentId, from, to],
    );
    const pick = (n: number) => {
      const row = rows.find((r) => r.version === n);
      if (!row || !canSeeTier(principal, (row.metadata?.accessTier as string) ?? head.accessTier))
        throw new VersionMissingError(`document ${documentId} has no version ${n}`);
      return row;
    };
    const [a, b] = [pick(from), pick(to)];
    return { documentId, from, to, ...diffVersions(a, b) };
  }
}

export class VersionMissingError extends AppError {
  readonly code = 'VERSION_NOT_FOUND';
  readonly status = 404;
}

export function diffVersions(
  a: VersionText,
  b: VersionText,
): Omit<DocumentDiff, 'documentId' | 'from' | 'to'> {
  const [x, y] = [a.content ?? '', b.content ?? ''];
  if (x.length > DIFF_MAX_CHARS || y.length > DIFF_MAX_CHARS)
    throw new DiffTooLargeError(
      `versions longer than ${DIFF_MAX_CHARS} characters are not diffed; read them with ?version=N`,
    );
  const options = { timeout: DIFF_TIMEOUT_MS };
  const unified = createTwoFilesPatch(
    `v${a.version}`,
    `v${b.version}`,
    withEol(x),
    withEol(y),
    '',
    '',
    options,
  );
  const words = diffWords(x, y, options);
  if (unified === undefined || words === undefined)
    throw new DiffTooLargeError(`the diff took longer than ${DIFF_TIMEOUT_MS} ms; read the versions instead`);
  return {
    unified,
    changes: {
      title: a.title === b.title ? null : { from: a.title, to: b.title },
      metadata: metadataChanges(a.metadata ?? {}, b.metadata ?? {}),
      words: words.map((w) => ({
        op: w.added ? ('insert' as const) : w.removed ? ('delete' as const) : ('equal' as const),
        text: w.value,
      })),
    },
  };
}

/** A text without a final newline gets one, so that the patch does not carry "\ No newline" markers for it. */
const withEol = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`);

function metadataChanges(a: Record<string, unknown>, b: Record<string, unknown>) {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return fields
    .filter((f) => !sameValue(a[f], b[f]))
    .map((field) => ({ field, from: a[field] ?? null, to: b[field] ?? null }));
}
