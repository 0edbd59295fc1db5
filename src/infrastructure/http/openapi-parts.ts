import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { documentIdSchema } from '../../domain/schemas.js';

/**
 * The pieces every feature's OpenAPI routes are made of. Each feature exports its routes, written with the same
 * zod schemas that validate its requests, so the document and the service cannot drift; src/app assembles them.
 */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export const problems = (...statuses: number[]): RouteConfig['responses'] =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'problem+json', content: { 'application/problem+json': { schema: problemSchema } } },
    ]),
  );

export const json = (schema: z.ZodType, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});

export const idParam = z.object({ id: documentIdSchema });

export const writeHeaders = z.object({
  'if-match': z.string().optional().describe('"<version>": refuse with 412 unless the document is at it'),
  'idempotency-key': z.string().max(200).optional(),
});
