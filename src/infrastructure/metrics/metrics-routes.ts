import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { problems } from '../http/openapi-parts.js';

/** GET /metrics in the OpenAPI document: Prometheus's text format, for an admin key. */
export const metricsRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics in the text exposition format (admin; docs/observability.md lists them)',
    responses: {
      200: {
        description: 'The metrics',
        content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: z.string() } },
      },
      ...problems(401, 403),
    },
  },
];
