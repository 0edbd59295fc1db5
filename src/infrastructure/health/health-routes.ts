import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json } from '../http/openapi-parts.js';

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
    security: [],
    responses: {
      200: json(
        z.object({
          status: z.enum(['ok', 'degraded']),
          ready: z.boolean(),
          checks: z.record(z.string(), z.unknown()),
        }),
      ),
      503: { description: 'Not ready' },
    },
  },
];
