import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problems } from '../../infrastructure/http/openapi-parts.js';
import { restoreSchema } from './restore-coach.js';

const restoreAction = z.object({
  documentId: z.uuid(),
  action: z.enum(['rollback', 'retire']),
  fromVersion: z.number().int(),
  toVersion: z.number().int().optional(),
  reason: z.string(),
  version: z.number().int().optional().describe('the new version (not in a dry run)'),
  position: z.string().optional(),
});

/** POST /coaches/{coachId}/restore in the OpenAPI document. */
export const restoreRoutes: RouteConfig[] = [
  {
    method: 'post',
    path: '/coaches/{coachId}/restore',
    summary: "Bring a coach's corpus back to how it was at asOf, by new events (admin)",
    description:
      'Documents changed since are rolled back to their version of then, documents created since are retired, ' +
      'documents retired since are brought back. Erased documents stay erased. A second run changes nothing.',
    request: {
      params: z.object({ coachId: z.string() }),
      body: { content: { 'application/json': { schema: restoreSchema } } },
    },
    responses: {
      200: json(
        z.object({
          coachId: z.string(),
          asOf: z.string(),
          dryRun: z.boolean(),
          changes: z.array(restoreAction),
          unchanged: z.number().int(),
          erased: z.array(z.uuid()),
          failed: z.array(z.object({ documentId: z.uuid(), code: z.string(), detail: z.string() })),
        }),
      ),
      ...problems(400, 401, 403),
    },
  },
];
