import { momentSchema } from '../../domain/schemas.js';
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { DocumentErasedError, DocumentNotFoundError } from '../../domain/document/errors.js';
import { assertCoach, canSeeCoach, canSeeDocument, canSeeTier, type Principal } from '../../domain/access.js';
import { fileStore, type StoredFile } from '../../infrastructure/documents/file-store.js';
import { ValidationFailedError } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { urlSources, type UrlSource } from '../../infrastructure/url-sources/url-sources.js';

export interface DocumentView {
  documentId: string;
  coachId: string;
  title: string | null;
  content: string | null;
  metadata: Record<string, unknown> | null;
  version: number;
  status: string;
  createdAt: string;
  updatedAt: string;
  /** Where a folder import found it (absent for other documents). */
  sourcePath?: string;
  /** A document made from a URL: its refresh schedule, last fetch and failures. */
  urlSource?: Omit<UrlSource, 'documentId' | 'coachId'>;
}

const pathOf = (value: unknown) => (typeof value === 'string' ? { sourcePath: value } : {});

export class VersionGoneError extends AppError {
  readonly code = 'VERSION_NOT_FOUND';
  readonly status = 404;
}

export const versionParam = z.coerce.number().int().min(1).max(1_000_000_000).optional();
export const asOfParam = momentSchema.optional();

export class GetDocumentQuery extends Query<DocumentView> {
  constructor(
    readonly principal: Principal,
    readonly documentId: string,
    readonly version?: number,
    readonly asOf?: string,
  ) {
    super();
  }
}

/** The version that was current at `asOf` (the last one written at or before it), or none yet. */
async function versionAt(sql: SqlClient, documentId: string, asOf: string): Promise<number | null> {
  const { rows } = await sql.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM document_versions WHERE document_id = $1 AND at <= $2::timestamptz',
    [documentId, asOf],
  );
  return rows[0]?.version ?? null;
}

/** GET /documents/:id[?version=N]: the current state, or one version as it was written. */
@QueryHandler(GetDocumentQuery)
export class GetDocumentHandler implements IQueryHandler<GetDocumentQuery, DocumentView> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute({ principal, documentId, version, asOf }: GetDocumentQuery): Promise<DocumentView> {
    let wanted = version;
    const at = asOf;
    if (wanted !== undefined && at !== undefined)
      throw new ValidationFailedError('give either version or asOf, not both', {
        errors: [{ path: 'query.asOf', message: 'cannot be combined with version' }],
      });
    if (at !== undefined) {
      // Before its first version the document did not exist: the same 404 as an unknown id.
      const then = await versionAt(this.sql, documentId, at);
      if (then === null) throw new DocumentNotFoundError(documentId);
      wanted = then;
    }
    const { rows } = await this.sql.query<Record<string, unknown>>(
      `SELECT d.document_id::text, d.coach_id, d.access_tier, d.created_at, d.status AS current_status, d.source_path, d.source_type,
              COALESCE(v.title, d.title) AS title, COALESCE(v.content, d.content) AS content, COALESCE(v.metadata, d.metadata) AS metadata,
              COALESCE(v.version, d.version) AS version, v.metadata->>'accessTier' AS version_tier, COALESCE(v.status, d.status) AS status, COALESCE(v.at, d.updated_at) AS updated_at,
              ($2::int IS NOT NULL AND v.version IS NULL) AS missing
       FROM documents d LEFT JOIN document_versions v ON v.document_id = d.document_id AND v.version = $2::int
       WHERE d.document_id = $1`,
      [documentId, wanted ?? null],
    );
    const row = rows[0];
    if (
      !row ||
      !canSeeCoach(principal, String(row.coach_id)) ||
      !canSeeTier(principal, row.access_tier as string | null)
    ) {
      throw new DocumentNotFoundError(documentId);
    }
    if (row.current_status === 'erased') throw new DocumentErasedError(documentId);
    // A version from when the document was premium stays hidden from a free reader.
    if (row.missing || !canSeeTier(principal, (row.version_tier as string | null) ?? 'free'))
      throw new VersionGoneError(`document ${documentId} has no version ${wanted}`);
    return {
      documentId: String(row.document_id),
      coachId: String(row.coach_id),
      title: row.title as string | null,
      content: row.content as string | null,
      metadata: row.metadata as Record<string, unknown> | null,
      version: Number(row.version),
      status: String(row.status),
      createdAt: (row.created_at as Date).toISOString(),
      updatedAt: (row.updated_at as Date).toISOString(),
      ...pathOf(row.source_path),
      ...(row.source_type === 'url' ? await this.urlSourceOf(documentId) : {}),
    };
  }

  private async urlSourceOf(documentId: string) {
    const source = await urlSources.ofDocument(this.sql, documentId);
    if (!source) return {};
    const { documentId: _id, coachId: _coach, ...urlSource } = source;
    return { urlSource };
  }
}

export type DocumentFile = StoredFile & { filename?: string };

export class GetDocumentFileQuery extends Query<DocumentFile> {
  constructor(
    readonly principal: Principal,
    readonly documentId: string,
    readonly version?: number,
  ) {
    super();
  }
}

/** GET /documents/:id/file[?version=N]: the original bytes of that version's file, and the name it came with. */
@QueryHandler(GetDocumentFileQuery)
export class GetDocumentFileHandler implements IQueryHandler<GetDocumentFileQuery, DocumentFile> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute({ principal, documentId, version }: GetDocumentFileQuery): Promise<DocumentFile> {
    const wanted = version;
    const { rows } = await this.sql.query<{
      coach_id: string;
      access_tier: string | null;
      status: string;
      file_sha256: string | null;
      file_name: string | null;
      version_tier: string | null;
      missing: boolean;
    }>(
      `SELECT d.coach_id, d.access_tier, d.status, v.file_sha256, v.file_name, v.metadata->>'accessTier' AS version_tier,
              v.version IS NULL AS missing
       FROM documents d
       LEFT JOIN document_versions v ON v.document_id = d.document_id AND v.version = COALESCE($2::int, d.version)
       WHERE d.document_id = $1`,
      [documentId, wanted ?? null],
    );
    const row = rows[0];
    if (!row || !canSeeDocument(principal, { coachId: row.coach_id, accessTier: row.access_tier }))
      throw new DocumentNotFoundError(documentId);
    if (row.status === 'erased') throw new DocumentErasedError(documentId);
    if (row.missing) throw new VersionGoneError(`document ${documentId} has no version ${wanted}`);
    const file =
      row.file_sha256 && canSeeTier(principal, row.version_tier ?? 'free')
        ? await fileStore.get(this.sql, row.file_sha256)
        : undefined;
    if (!file)
      throw new VersionGoneError(
        `this version of document ${documentId} has no original file (it was written as text)`,
      );
    return { ...file, ...(row.file_name ? { filename: row.file_name } : {}) };
  }
}

export const listFiltersSchema = z.object({
  coachId: z.string().min(1).max(64),
  documentType: z.enum(['research', 'guide', 'protocol', 'case_study']).optional(),
  tag: z.string().min(1).max(64).optional(),
  status: z.enum(['active', 'retired']).default('active'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid({ error: 'cursor must be a nextCursor returned by this endpoint' }).optional(),
});
export type ListFilters = z.infer<typeof listFiltersSchema>;

export interface DocumentPage {
  items: Array<Omit<DocumentView, 'content'>>;
  nextCursor: string | null;
}

export class ListDocumentsQuery extends Query<DocumentPage> {
  constructor(
    readonly principal: Principal,
    readonly filters: ListFilters,
  ) {
    super();
  }
}

/** GET /documents: one coach's documents, newest id order independent, paged by a keyset cursor. */
@QueryHandler(ListDocumentsQuery)
export class ListDocumentsHandler implements IQueryHandler<ListDocumentsQuery, DocumentPage> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute({ principal, filters: f }: ListDocumentsQuery): Promise<DocumentPage> {
    assertCoach(principal, f.coachId);
    const freeOnly = !canSeeTier(principal, 'premium');
    const { rows } = await this.sql.query<Record<string, unknown>>(
      `SELECT document_id::text, coach_id, title, metadata, version, status, created_at, updated_at, source_path
       FROM documents
       WHERE coach_id = $1 AND status = $2 AND ($3::text IS NULL OR document_type = $3) AND ($4::text IS NULL OR $4 = ANY(tags))
         AND (NOT $5::boolean OR access_tier = 'free') AND ($6::uuid IS NULL OR document_id > $6::uuid)
       ORDER BY document_id LIMIT $7`,
      [f.coachId, f.status, f.documentType ?? null, f.tag ?? null, freeOnly, f.cursor ?? null, f.limit + 1],
    );
    const page = rows.slice(0, f.limit).map((r) => ({
      documentId: String(r.document_id),
      coachId: String(r.coach_id),
      title: r.title as string | null,
      metadata: r.metadata as Record<string, unknown> | null,
      version: Number(r.version),
      status: String(r.status),
      createdAt: (r.created_at as Date).toISOString(),
      updatedAt: (r.updated_at as Date).toISOString(),
      ...pathOf(r.source_path),
    }));
    return { items: page, nextCursor: rows.length > f.limit ? page[page.length - 1]!.documentId : null };
  }
}
