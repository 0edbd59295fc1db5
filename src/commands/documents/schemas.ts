import { z } from 'zod';
import {
  coachIdSchema,
  MAX_CONTENT_CHARS,
  metadataPatchSchema,
  metadataSchema,
} from '../../domain/schemas.js';

/** Request schemas of the document commands (API.md); the OpenAPI document is generated from them. */
export const contentSchema = z
  .string()
  .min(1)
  .max(MAX_CONTENT_CHARS)
  .refine((s) => !s.includes('\u0000'), 'content cannot contain NUL characters');

export const jsonUploadSchema = z.object({
  coachId: coachIdSchema,
  title: z.string().trim().min(1).max(500),
  content: contentSchema,
  format: z.enum(['text', 'markdown']).default('text'),
  metadata: metadataSchema,
});

/** A file's path in an imported folder: relative, `/`-separated, no empty, `.` or `..` segment. */
export const sourcePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) =>
      !p.split('/').some((segment) => segment === '' || segment === '.' || segment === '..') &&
      // eslint-disable-next-line no-control-regex
      !/[\u0000-\u001f\u007f]/.test(p),
    'a relative path with "/" separators, without empty, "." or ".." segments or control characters',
  )
  .describe(
    "The file's path in an imported folder: the document's key. A later upload with the same coach and path is a new version of that document, or nothing when file and metadata are unchanged",
  );

export const multipartUploadSchema = z.object({
  coachId: coachIdSchema,
  metadata: metadataSchema,
  sourcePath: sourcePathSchema.optional(),
});

export const fromUrlSchema = z.object({
  coachId: coachIdSchema,
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(2000)
    .describe('The page or file to fetch; refetched on the refresh schedule'),
  metadata: metadataSchema,
  refreshIntervalDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .optional()
    .describe('Days between refreshes (default 30)'),
});

export const editSchema = z
  .object({
    content: contentSchema.optional(),
    metadata: metadataPatchSchema.optional(),
    changeSummary: z.string().trim().max(500).optional(),
    expectedVersion: z.number().int().min(1).optional(),
  })
  .refine((b) => b.content !== undefined || b.metadata !== undefined, 'give content, metadata or both');

export const replaceFileSchema = z.object({
  changeSummary: z.string().trim().max(500).optional(),
  expectedVersion: z.coerce.number().int().min(1).optional(),
});
export const rollbackSchema = z.object({
  toVersion: z.number().int().min(1),
  reason: z.string().trim().max(500).optional(),
  expectedVersion: z.number().int().min(1).optional(),
});
export const retireSchema = z
  .object({
    reason: z.string().trim().max(500).optional(),
    expectedVersion: z.number().int().min(1).optional(),
  })
  .default({});
export const eraseSchema = z.object({ reason: z.string().trim().min(1).max(500) });
export const writeResultSchema = z.object({
  documentId: z.uuid(),
  version: z.number().int(),
  position: z
    .string()
    .describe('Global position of the last event; pass it as minPosition to read your own write'),
  sourceId: z.uuid().optional(),
  duplicate: z.boolean().optional(),
  outcome: z
    .enum(['created', 'updated', 'unchanged', 'duplicate', 'retired'])
    .optional()
    .describe('With sourcePath: what the upload did to the document at that path'),
});
