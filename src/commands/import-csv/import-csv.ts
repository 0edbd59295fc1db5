import type { CommandBus } from '@nestjs/cqrs';
import { canSeeCoach, type Principal } from '../../domain/access.js';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { AppError } from '../../domain/errors.js';
import { comparePositions, parsePosition } from '../../infrastructure/event-store/position.js';
import { parseWith, ValidationFailedError } from '../../infrastructure/http/validation.js';
import { jsonUploadSchema } from '../documents/schemas.js';
import { UploadDocumentsCommand, type TextUpload } from '../upload-document/upload-documents.js';
import type { CsvRow } from './csv-rows.js';

/** Rows per transaction: one NOTIFY and one set of multi-row statements each. */
export const IMPORT_BATCH = 500;

export interface ImportFailure {
  line: number;
  code: string;
  detail: string;
}

export interface ImportedRow {
  line: number;
  documentId: string;
  version: number;
  position: string;
  duplicate?: true;
}

export interface ImportReport {
  imported: number;
  duplicates: number;
  failed: ImportFailure[];
  documents: ImportedRow[];
  /** The last position written or found (duplicates): pass it as minPosition to search what was imported. */
  position: string | null;
}

/** `tags`: separated by `;` or `,`, each trimmed, empty ones dropped. */
export const splitTags = (value: string | undefined) =>
  (value ?? '')
    .split(/[;,]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);

/** A row as POST /documents' JSON form, validated by the same schema; or why not. */
export function uploadOfRow(row: CsvRow, principal: Principal): TextUpload | ImportFailure {
  const { line, fields: f } = row;
  if (row.fieldCount !== undefined) {
    const detail = `expected ${Object.keys(f).length} fields as in the header, found ${row.fieldCount}`;
    return { line, code: 'VALIDATION_FAILED', detail };
  }
  const optional = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);
  const candidate = {
    coachId: f.coach_id?.trim(),
    title: f.title,
    content: f.content,
    format: 'text',
    metadata: {
      documentType: f.document_type?.trim(),
      accessTier: f.access_tier?.trim(),
      tags: splitTags(f.tags),
      ...(optional(f.author) ? { author: optional(f.author) } : {}),
      ...(optional(f.publication_date) ? { publicationDate: optional(f.publication_date) } : {}),
    },
  };
  try {
    const upload = parseWith(jsonUploadSchema, candidate, 'row');
    if (!canSeeCoach(principal, upload.coachId))
      return { line, code: 'FORBIDDEN', detail: `this key has no access to coach ${upload.coachId}` };
    return { ...upload, metadata: upload.metadata as DocumentMetadata };
  } catch (error) {
    if (error instanceof ValidationFailedError) return { line, code: error.code, detail: error.message };
    throw error;
  }
}

/**
 * Imports the valid rows in batches, each one transaction of UploadDocuments; the others are reported with their
 * line. A batch refused as a whole (e.g. the database went away) reports its rows failed with its code: the rows
 * imported before stay, and importing the file again adds only what is missing (the rest are duplicates).
 */
export async function importRows(
  bus: CommandBus,
  principal: Principal,
  rows: readonly CsvRow[],
): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, duplicates: 0, failed: [], documents: [], position: null };
  const good: Array<{ line: number; upload: TextUpload }> = [];
  for (const row of rows) {
    const upload = uploadOfRow(row, principal);
    if ('code' in upload) report.failed.push(upload);
    else good.push({ line: row.line, upload });
  }
  for (let i = 0; i < good.length; i += IMPORT_BATCH) {
    const batch = good.slice(i, i + IMPORT_BATCH);
    try {
      const uploads = batch.map((b) => b.upload);
      const results = await bus.execute(
        new UploadDocumentsCommand({ principal, uploads, sourceType: 'csv' }),
      );
      results.forEach((r, n) => record(report, batch[n]!.line, r));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      for (const { line } of batch) report.failed.push({ line, code: error.code, detail: error.message });
    }
  }
  report.failed.sort((a, b) => a.line - b.line);
  return report;
}

function record(
  report: ImportReport,
  line: number,
  r: { documentId: string; version: number; position: string | undefined; duplicate?: boolean },
) {
  // An upload that is appended or a duplicate always has a position.
  const position = r.position!;
  report.documents.push({
    line,
    documentId: r.documentId,
    version: r.version,
    position,
    ...(r.duplicate ? { duplicate: true as const } : {}),
  });
  if (r.duplicate) report.duplicates++;
  else report.imported++;
  if (!report.position || comparePositions(parsePosition(position), parsePosition(report.position)) > 0)
    report.position = position;
}
