import { z } from 'zod';
import { DOCUMENT_TYPES, ACCESS_TIERS } from '../../domain/document/document.js';
import { coachIdSchema, momentSchema, positionSchema, tagSchema } from '../../domain/schemas.js';

export const SEARCH_MODES = ['hybrid', 'vector', 'text'] as const;

/** POST /search (API.md). */
export const searchRequestSchema = z
  .object({
    coachId: coachIdSchema,
    query: z.string().trim().min(1).max(2000),
    k: z.number().int().min(1).max(100).default(10),
    mode: z.enum(SEARCH_MODES).default('hybrid'),
    filters: z
      .object({
        tags: z.array(tagSchema).min(1).max(50).optional().describe('chunks with any of these tags'),
        documentTypes: z.array(z.enum(DOCUMENT_TYPES)).min(1).max(4).optional(),
        accessTier: z.enum(ACCESS_TIERS).optional(),
        publishedAfter: z.iso.date().optional().describe('YYYY-MM-DD, inclusive'),
        publishedBefore: z.iso.date().optional().describe('YYYY-MM-DD, inclusive'),
      })
      .strict()
      .optional(),
    asOf: momentSchema.optional().describe('search the corpus as it stood at this moment'),
    minPosition: positionSchema
      .optional()
      .describe('wait (bounded) until the read side has caught up with this position'),
  })
  .strict();

export type SearchRequest = z.infer<typeof searchRequestSchema>;

export const searchResultSchema = z.object({
  documentId: z.uuid(),
  title: z.string(),
  version: z.number().int(),
  chunkIndex: z.number().int(),
  content: z.string(),
  score: z.number(),
  startChar: z.number().int(),
  endChar: z.number().int(),
  section: z.string().optional(),
  page: z.number().int().optional(),
  metadata: z.record(z.string(), z.unknown()),
});

export const searchResponseSchema = z.object({
  results: z.array(searchResultSchema),
  position: z.string().nullable().describe('the position the chunks read model had reached'),
});
