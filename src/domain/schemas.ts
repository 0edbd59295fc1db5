import { z } from 'zod';
import { ACCESS_TIERS, DOCUMENT_TYPES } from './document/document.js';

/**
 * The value schemas both sides share: what a coach id, a tag, a moment, a document id, a position and document
 * metadata look like. Commands validate writes with them, queries validate reads; the OpenAPI document is
 * generated from them.
 */
/**
 * The most text one document holds, in UTF-16 code units (JavaScript's string length), whichever way it comes:
 * JSON content, an edit, a CSV row or the text extracted from a file or a page. Its write and its projection
 * hold the text several times over in memory, so this bounds what one document can cost the process.
 */
export const MAX_CONTENT_CHARS = 5_000_000;

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

/** A moment for as-of reads, searches and restores. */
export const momentSchema = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 date-time with its offset, e.g. 2026-01-31T12:00:00Z',
});

export const documentIdSchema = z.uuid({ error: 'document ids are UUIDs' });

const MAX_TX = 2n ** 63n;
/** A position in the global order as this service hands it out: "<transaction>.<sequence>". */
export const positionSchema = z
  .string()
  .regex(/^\d{1,19}\.\d{1,19}$/, 'must be a position returned by this service')
  .refine(
    (p) => !/^\d{1,19}\./.test(p) || BigInt(p.split('.')[0]!) < MAX_TX,
    'must be a position returned by this service',
  );

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
