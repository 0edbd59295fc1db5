import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problems } from '../../infrastructure/http/openapi-parts.js';
import { changelogParamsSchema, CHANGE_TYPES } from './changelog.query.js';

const changelogEntry = z
  .object({
    position: z.string(),
    documentId: z.uuid(),
    coachId: z.string(),
    version: z.number().int(),
    type: z.enum(CHANGE_TYPES),
    actor: z.string(),
    at: z.string(),
    summary: z.string(),
  })
  .meta({ id: 'ChangelogEntry' });

/** The changelog, paged and live, in the OpenAPI document. */
export const changelogRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/changelog',
    summary: 'Every change to the documents this key may see, in the global order',
    request: { query: changelogParamsSchema },
    responses: {
      200: json(z.object({ entries: z.array(changelogEntry), next: z.string().nullable() })),
      ...problems(400, 401, 403),
    },
  },
  {
    method: 'get',
    path: '/changelog/stream',
    summary: 'The changelog as server-sent events (resumable with Last-Event-ID)',
    description:
      'Same filters as /changelog. Each entry is an event `change` whose `id` is its position; a client that ' +
      'reconnects with Last-Event-ID (or ?after=) gets what followed. A comment line every 15 s keeps it alive.',
    request: {
      query: changelogParamsSchema.omit({ limit: true }),
      headers: z.object({ 'last-event-id': z.string().optional() }),
    },
    responses: {
      200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
      ...problems(400, 401, 403),
    },
  },
];
