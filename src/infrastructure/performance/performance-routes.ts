import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problems } from '../http/openapi-parts.js';

export const performanceQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('statements listed (all are weighed)'),
  measureRecall: z
    .stringbool()
    .default(true)
    .describe('measure the vector index recall (two vector queries for each of up to 20 sampled chunks)'),
});
export type PerformanceQuery = z.infer<typeof performanceQuerySchema>;

const statementSchema = z.object({
  pattern: z.string().describe('the statement with literals and parameters as ?, whitespace collapsed'),
  calls: z.number(),
  totalMs: z.number(),
  meanMs: z.number(),
  maxMs: z.number(),
  rows: z.number().describe('rows returned or affected, over all calls'),
  meanRows: z.number(),
});

const recommendationSchema = z.object({
  code: z
    .string()
    .describe(
      'stable: INDEX_FOR_FREQUENT_FILTER, PAGINATE_LARGE_RESULTS, VECTOR_INDEX_MISSING, VECTOR_INDEX_INVALID, ' +
        'VECTOR_RECALL_LOW, VECTOR_SEARCH_EFFORT_HIGH, CHUNKS_SEQUENTIAL_SCANS, ADVISOR_FAILED (docs/performance.md)',
    ),
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string(),
  evidence: z.record(z.string(), z.unknown()),
});

export const performanceReportSchema = z
  .object({
    generatedAt: z.string(),
    engine: z.enum(['postgres', 'pglite']),
    slowQueryMs: z
      .number()
      .describe('SLOW_QUERY_MS: statements with an execution at least this long are listed'),
    source: z.enum(['pg_stat_statements', 'service_timing']),
    sourceDetail: z
      .string()
      .describe('why this source (for service_timing: what kept pg_stat_statements out)'),
    since: z.string().nullable().describe('since when the figures add up, when known'),
    statements: z.array(statementSchema).describe('the most total time first'),
    recommendations: z.array(recommendationSchema).describe('the most severe first'),
    checks: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .describe('what each advisor looked at (tables, vectorIndex)'),
  })
  .meta({ id: 'PerformanceReport' });

export const performanceRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/admin/performance',
    summary: 'Slow statements grouped by pattern, with recommendations (admin)',
    request: { query: performanceQuerySchema },
    responses: { 200: json(performanceReportSchema), ...problems(400, 401, 403) },
  },
];
