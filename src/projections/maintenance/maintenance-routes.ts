import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problems } from '../../infrastructure/http/openapi-parts.js';
import { runsQuerySchema } from './maintenance.controller.js';

const taskReport = z.object({
  name: z.enum(['query-cache', 'orphans', 'consistency', 'orphan-files', 'vacuum', 'vector-index']),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  durationMs: z.number().int(),
  summary: z.string().describe('one line for people'),
  rows: z.number().int().describe('rows removed or rewritten'),
  bytes: z.number().int().describe('bytes those rows took, or that tables and indexes shrank by'),
  details: z.record(z.string(), z.unknown()).describe("the task's own figures (docs/maintenance.md)"),
  reason: z.string().optional().describe('why it was skipped or failed'),
});

const maintenanceReport = z
  .object({
    runId: z.uuid(),
    trigger: z.enum(['schedule', 'api', 'cli']),
    status: z.enum(['running', 'succeeded', 'failed', 'interrupted']),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    tasks: z.array(taskReport),
  })
  .meta({ id: 'MaintenanceReport' });

/** The maintenance routes in the OpenAPI document. */
export const maintenanceRoutes: RouteConfig[] = [
  {
    method: 'post',
    path: '/admin/maintenance',
    summary:
      'Run the maintenance tasks now and answer with their report when they end (admin); 409 MAINTENANCE_RUNNING while another run is under way',
    responses: {
      200: json(maintenanceReport, 'The run\'s report (status "failed" when a task failed)'),
      ...problems(401, 403, 409),
    },
  },
  {
    method: 'get',
    path: '/admin/maintenance/runs',
    summary: 'The kept maintenance reports, newest first (admin)',
    request: { query: runsQuerySchema },
    responses: {
      200: json(z.object({ runs: z.array(maintenanceReport) })),
      ...problems(400, 401, 403),
    },
  },
];
