import { z } from 'zod';
import { ACCESS_TIERS, DOCUMENT_TYPES } from '../../domain/document/document.js';

/** Request schemas of the document commands (API.md); the OpenAPI document is generated from them. */
export const coachIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-"')
  .describe('The coach whose library holds the document');

export const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} _.+-]*$/u, 'a tag is letters, digits, spaces and _ . + -');

const customValue = z.union([
  z.string().max(2000),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.string().max(200)).max(50),
]);

const metadataFields = {
  title: z.string().trim().min(1).max(500).optional(),
  author: z.string().trim().max(500).optional(),
  publicationDate: z.iso.date().optional().describe('YYYY-MM-DD'),
  documentType: z.enum(DOCUMENT_TYPES),
  tags: z.array(tagSchema).max(50).default([]),
  accessTier: z.enum(ACCESS_TIERS),
  sourceUrl: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
};

const customKey = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function boundedCustomFields<T extends z.ZodObject>(schema: T) {
  return schema.catchall(customValue).superRefine((value, ctx) => {
    const custom = Object.keys(value).filter((k) => !(k in metadataFields));
    if (custom.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 custom fields' });
    for (const k of custom)
      if (!customKey.test(k))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'a custom field name is a letter then letters, digits or _',
        });
    if (JSON.stringify(value).length > 16_384)
      ctx.addIssue({ code: 'custom', message: 'metadata is limited to 16 KB' });
  });
}

export const metadataSchema = boundedCustomFields(z.object(metadataFields)).describe(
  'Document metadata; extra fields are kept as custom metadata',
);
// A patch has no defaults: a field it leaves out keeps its value (a `.partial()` of `tags` would still default
// it to [] and wipe the document's tags).
export const metadataPatchSchema = boundedCustomFields(
  z.object({ ...metadataFields, tags: z.array(tagSchema).max(50) }).partial(),
).describe('Fields to merge into the metadata');

export const contentSchema = z
  .string()
  .min(1)
  .max(5_000_000)
  .refine((s) => !s.includes('\u0000'), 'content cannot contain NUL characters');

export const jsonUploadSchema = z.object({
  coachId: coachIdSchema,
  title: z.string().trim().min(1).max(500),
  content: contentSchema,
  format: z.enum(['text', 'markdown']).default('text'),
  metadata: metadataSchema,
});

export const multipartUploadSchema = z.object({ coachId: coachIdSchema, metadata: metadataSchema });

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
/** A moment for as-of reads, searches and restores. */
export const momentSchema = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 date-time with its offset, e.g. 2026-01-31T12:00:00Z',
});
export const documentIdSchema = z.uuid({ error: 'document ids are UUIDs' });

export const writeResultSchema = z.object({
  documentId: z.uuid(),
  version: z.number().int(),
  position: z
    .string()
    .describe('Global position of the last event; pass it as minPosition to read your own write'),
  sourceId: z.uuid().optional(),
  duplicate: z.boolean().optional(),
});
