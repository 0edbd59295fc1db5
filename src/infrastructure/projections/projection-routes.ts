import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problems } from '../http/openapi-parts.js';

/** The projections' admin routes in the OpenAPI document. */
export const projectionRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/admin/projections',
    summary: 'Every projection: version, position, lag, status, dead letters (admin)',
    responses: { 200: json(z.array(z.record(z.string(), z.unknown()))), ...problems(401, 403) },
  },
  {
    method: 'post',
    path: '/admin/projections/{name}/rebuild',
    summary:
      'Rebuild a projection from the events (admin): an inline one before the answer (rebuilt), an async one in the background (progress in GET /admin/projections)',
    request: { params: z.object({ name: z.string() }) },
    responses: {
      202: json(z.object({ name: z.string(), status: z.enum(['rebuilt', 'rebuild_requested']) }), 'Accepted'),
      ...problems(401, 403, 404),
    },
  },
];
