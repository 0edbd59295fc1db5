import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { metadataSchema } from '../../domain/schemas.js';
import { idParam, json, problems } from '../../infrastructure/http/openapi-parts.js';
import { asOfParam, listFiltersSchema, versionParam } from './document-queries.js';
import { sourcesFiltersSchema } from './url-sources.query.js';

const urlSourceView = z.object({
  url: z.string(),
  refreshIntervalDays: z.number().int(),
  lastFetchedAt: z.string().nullable(),
  lastChangedAt: z.string().nullable(),
  nextRefreshAt: z.string(),
  failures: z.number().int(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
});

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
    sourcePath: z.string().optional().describe("Where a folder import found the document (the import's key)"),
    urlSource: urlSourceView
      .optional()
      .describe('A document made from a URL: its refresh schedule and failures'),
  })
  .meta({ id: 'Document' });

/** The document reads in the OpenAPI document. */
export const documentQueryRoutes: RouteConfig[] = [
  {
    method: 'get',
    path: '/admin/sources',
    summary: 'URL sources: last fetch, next refresh, failures (admin)',
    request: { query: sourcesFiltersSchema },
    responses: {
      200: json(
        z.object({
          items: z.array(
            urlSourceView.extend({
              documentId: z.uuid(),
              coachId: z.string(),
              title: z.string().nullable(),
              status: z.string(),
            }),
          ),
          nextCursor: z.uuid().nullable(),
        }),
      ),
      ...problems(400, 401, 403),
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
        version: versionParam,
        asOf: asOfParam.describe('ISO-8601 date-time: the version current then (404 before the first)'),
      }),
    },
    responses: { 200: json(documentView), ...problems(401, 404, 410) },
  },
  {
    method: 'get',
    path: '/documents/{id}/file',
    summary: 'The original file of a version',
    request: { params: idParam, query: z.object({ version: versionParam }) },
    responses: {
      200: {
        description:
          'The bytes, with their content type; Content-Disposition: attachment, with the uploaded file name when there was one',
      },
      ...problems(401, 404, 410),
    },
  },
];
