import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  editSchema,
  eraseSchema,
  jsonUploadSchema,
  replaceFileSchema,
  retireSchema,
  rollbackSchema,
  writeResultSchema,
} from '../../commands/documents/schemas.js';
import { coachIdSchema, documentIdSchema, metadataSchema } from '../../domain/schemas.js';
import { listFiltersSchema } from '../../projections/documents/document-queries.js';
import { searchRequestSchema, searchResponseSchema } from '../../projections/chunks/search.schema.js';
import { historyRoutes } from './history-routes.js';
import { problemCodes } from './problem-codes.js';

/**
 * The OpenAPI document, generated from the same zod schemas that validate requests, so the two cannot drift.
 * Served at /openapi.json and browsable at /docs.
 */
const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

const documentView = z
  .object({
    documentId: z.uuid(),
    coachId: z.string(),
    title: z.string().nullable(),
    content: z.string().nullable(),
    metadata: metadataSchema.nullable(),
    version: z.number().int(),
    status: z.enum(['active', 'retired', 'erased']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Document' });

const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'problem+json', content: { 'application/problem+json': { schema: problem } } },
    ]),
  );
const json = (schema: z.ZodType, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const idParam = z.object({ id: documentIdSchema });
const headers = z.object({
  'if-match': z.string().optional().describe('"<version>": refuse with 412 unless the document is at it'),
  'idempotency-key': z.string().max(200).optional(),
});
const fileForm = z.object({
  file: z.string().meta({ format: 'binary' }),
  coachId: coachIdSchema,
  metadata: z.string().describe('JSON text of the metadata object'),
});

const routes: RouteConfig[] = [
  {
    method: 'post',
    path: '/search',
    summary: "The passages of a coach's corpus most relevant to a query",
    description:
      'hybrid = vector and full-text rankings fused by reciprocal rank fusion (k = 60); vector = cosine similarity; ' +
      'text = PostgreSQL full-text search (english) with the words OR-ed. A free reader only ever gets free chunks.',
    request: { body: { content: { 'application/json': { schema: searchRequestSchema } } } },
    responses: {
      200: json(searchResponseSchema),
      ...problems(400, 401, 403, 429, 503),
    },
  },
  {
    method: 'post',
    path: '/documents',
    summary: 'Upload a document (a file, or text as JSON)',
    request: {
      headers,
      body: {
        content: {
          'application/json': { schema: jsonUploadSchema },
          'multipart/form-data': { schema: fileForm },
        },
      },
    },
    responses: {
      201: json(writeResultSchema, 'Created'),
      200: json(writeResultSchema, 'The same source is already active for this coach (duplicate: true)'),
      ...problems(400, 401, 403, 413, 415, 422, 429),
    },
  },
  {
    method: 'get',
    path: '/documents',
    summary: "List a coach's documents",
    request: { query: listFiltersSchema },
    responses: {
      200: json(
        z.object({ items: z.array(documentView.omit({ content: true })), nextCursor: z.uuid().nullable() }),
      ),
      ...problems(400, 401, 403),
    },
  },
  {
    method: 'get',
    path: '/documents/{id}',
    summary: 'A document, one of its versions, or the document as it was at a moment',
    request: {
      params: idParam,
      query: z.object({
        version: z.number().int().min(1).optional(),
        asOf: z
          .string()
          .optional()
          .describe('ISO-8601 date-time: the version current then (404 before the first)'),
      }),
    },
    responses: { 200: json(documentView), ...problems(401, 404, 410) },
  },
  {
    method: 'get',
    path: '/documents/{id}/file',
    summary: 'The original file of a version',
    request: { params: idParam, query: z.object({ version: z.number().int().min(1).optional() }) },
    responses: {
      200: {
        description:
          'The bytes, with their content type; Content-Disposition: attachment, with the uploaded file name when there was one',
      },
      ...problems(401, 404, 410),
    },
  },
  {
    method: 'patch',
    path: '/documents/{id}',
    summary: 'Edit text and/or metadata (merged)',
    request: { params: idParam, headers, body: { content: { 'application/json': { schema: editSchema } } } },
    responses: { 200: json(writeResultSchema), ...problems(400, 401, 403, 404, 409, 410, 412) },
  },
  {
    method: 'put',
    path: '/documents/{id}/file',
    summary: 'Replace the file: a new version',
    request: {
      params: idParam,
      headers,
      body: {
        content: {
          'multipart/form-data': {
            schema: replaceFileSchema.extend({ file: z.string().meta({ format: 'binary' }) }),
          },
        },
      },
    },
    responses: { 200: json(writeResultSchema), ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422) },
  },
  {
    method: 'post',
    path: '/documents/{id}/rollback',
    summary: 'A new version equal to an earlier one',
    request: {
      params: idParam,
      headers,
      body: { content: { 'application/json': { schema: rollbackSchema } } },
    },
    responses: { 200: json(writeResultSchema), ...problems(400, 401, 403, 404, 410, 412, 422) },
  },
  {
    method: 'delete',
    path: '/documents/{id}',
    summary: 'Retire (history kept; rollback brings it back)',
    request: {
      params: idParam,
      headers,
      body: { content: { 'application/json': { schema: retireSchema } } },
    },
    responses: { 200: json(writeResultSchema), ...problems(401, 403, 404, 410, 412) },
  },
  {
    method: 'post',
    path: '/documents/{id}/erase',
    summary: 'Erase for good (admin)',
    request: { params: idParam, body: { content: { 'application/json': { schema: eraseSchema } } } },
    responses: { 200: json(writeResultSchema), ...problems(400, 401, 403, 404) },
  },
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

export function openApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (API.md, Auth)',
  });
  for (const route of [...routes, ...historyRoutes({ json, problems, idParam })])
    registry.registerPath(route);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'docsvc',
      version: '0.1.0',
      description: 'Event-sourced document service for retrieval-augmented generation',
    },
    security: [{ apiKey: [] }],
  });
  listProblemCodes(document);
  return document;
}

/** The Problem's `code`: every code the service answers with, and the statuses it comes with. */
function listProblemCodes(document: ReturnType<OpenApiGeneratorV31['generateDocument']>): void {
  const codes = [...problemCodes()].sort(([a], [b]) => a.localeCompare(b));
  const schema = document.components?.schemas?.Problem as { properties: Record<string, object> } | undefined;
  if (!schema) return;
  schema.properties.code = {
    type: 'string',
    enum: codes.map(([code]) => code),
    description:
      'A stable machine code: ' +
      codes.map(([code, statuses]) => `${code} (${[...statuses].join(', ')})`).join(', '),
  };
}
