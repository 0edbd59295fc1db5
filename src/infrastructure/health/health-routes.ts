import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json } from '../http/openapi-parts.js';

const check = z
  .object({ status: z.enum(['ok', 'degraded', 'down']), warning: z.string().optional() })
  .catchall(z.unknown());

const readiness = z.object({
  status: z.enum(['ok', 'degraded']),
  ready: z.boolean(),
  checks: z.record(z.string(), check),
});

/** Liveness and readiness in the OpenAPI document (public: no key). */
export const healthRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness',
    security: [],
    responses: { 200: json(z.object({ status: z.literal('ok') })) },
  },
  {
    method: 'get',
    path: '/health/ready',
    summary: 'Readiness',
    description:
      'Checks: database, migrations, eventStore (head position), projections (lag against HEALTH_MAX_PROJECTOR_LAG), ' +
      'databaseSize (against DATABASE_SIZE_LIMIT_BYTES, a warning near it), documents (per status), chunks ' +
      '(current and total), searchIndexes (vector and text: validity, size). Each is ok, degraded or down; 503 only ' +
      'when one is down (docs/observability.md).',
    security: [],
    responses: {
      200: json(readiness),
      503: json(readiness, 'Not ready: a check is down'),
    },
  },
];
