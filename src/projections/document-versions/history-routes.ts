import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { idParam, json, problems } from '../../infrastructure/http/openapi-parts.js';
import { CHANGE_TYPES } from '../documents/changelog.query.js';
import { diffParamsSchema } from './history-queries.js';

const versionEntry = z
  .object({
    version: z.number().int(),
    change: z.enum(CHANGE_TYPES),
    changeSummary: z.string().nullable(),
    actor: z.string().describe('the id of the API key (or cli:<user>) that wrote it'),
    at: z.string(),
    position: z.string(),
    status: z.enum(['active', 'retired', 'erased']),
    rolledBackTo: z.number().int().optional(),
  })
  .meta({ id: 'VersionEntry' });

/** A document's history in the OpenAPI document: its versions and the diff of any two. */
export const historyRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/documents/{id}/versions',
    summary: 'Every version: what changed, who, when, why, and its position',
    description: 'A free reader does not see the versions in which the document was premium.',
    request: { params: idParam },
    responses: {
      200: json(z.object({ documentId: z.uuid(), versions: z.array(versionEntry) })),
      ...problems(401, 404),
    },
  },
  {
    method: 'get',
    path: '/documents/{id}/diff',
    summary: 'The difference between any two versions',
    description:
      'unified: a unified line diff; changes.words: the word-level diff (equal/insert/delete runs, which ' +
      'rebuild the `to` text); changes.metadata: the fields that changed. Texts over 2,000,000 characters, or a ' +
      'diff taking over 5 s, answer 422 DIFF_TOO_LARGE.',
    request: { params: idParam, query: diffParamsSchema },
    responses: {
      200: json(
        z.object({
          documentId: z.uuid(),
          from: z.number().int(),
          to: z.number().int(),
          unified: z.string(),
          changes: z.object({
            title: z.object({ from: z.string().nullable(), to: z.string().nullable() }).nullable(),
            metadata: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
            words: z.array(z.object({ op: z.enum(['equal', 'insert', 'delete']), text: z.string() })),
          }),
        }),
      ),
      ...problems(400, 401, 404, 410, 422),
    },
  },
];
