import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problems } from '../../infrastructure/http/openapi-parts.js';
import { CSV_COLUMNS, CSV_LIMITS } from './csv-rows.js';
import { IMPORT_BATCH } from './import-csv.js';

const importReportSchema = z.object({
  imported: z.number().int().describe('Rows that became new documents'),
  duplicates: z.number().int().describe('Rows whose text the coach already has active (nothing written)'),
  failed: z
    .array(
      z.object({
        line: z.number().int().describe("The line the row's record starts on (the header is line 1)"),
        code: z.string().describe('VALIDATION_FAILED, FORBIDDEN, or the code of a batch that failed'),
        detail: z.string(),
      }),
    )
    .describe('Rows not imported, by line'),
  documents: z.array(
    z.object({
      line: z.number().int(),
      documentId: z.uuid(),
      version: z.number().int(),
      position: z.string(),
      duplicate: z.literal(true).optional(),
    }),
  ),
  position: z
    .string()
    .nullable()
    .describe('The last position written or found; pass it as minPosition to search what was imported'),
});

/** The imports in the OpenAPI document. */
export const importRoutes: RouteConfig[] = [
  {
    method: 'post',
    path: '/imports/csv',
    summary: 'Import documents from a CSV file (editor)',
    description:
      `A UTF-8 CSV file (optional BOM; comma separated; double quotes, which may hold newlines; CRLF or LF) with a ` +
      `header line naming the columns ${CSV_COLUMNS.join(',')} (any order; the first five required). One row is ` +
      `one document, as POST /documents takes it as JSON with format "text"; tags are separated by ";" or ",". ` +
      `At most ${CSV_LIMITS.maxRows} rows and ${CSV_LIMITS.maxRecordBytes} bytes per record; the file is limited ` +
      `by MAX_UPLOAD_BYTES. The whole file is checked first (a malformed one is refused and nothing is written); ` +
      `good rows are imported ${IMPORT_BATCH} per transaction, bad ones listed in failed with their line. A row ` +
      `whose text its coach already has active is a duplicate: importing a file again imports nothing.`,
    request: {
      body: {
        content: {
          'multipart/form-data': { schema: z.object({ file: z.string().meta({ format: 'binary' }) }) },
        },
      },
    },
    responses: { 200: json(importReportSchema, 'Imported'), ...problems(400, 401, 403, 413, 415, 429) },
  },
];
