import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { json, problems } from '../../infrastructure/http/openapi-parts.js';
import { searchRequestSchema, searchResponseSchema } from './search.schema.js';

/** POST /search in the OpenAPI document. */
export const searchRoutes: RouteConfig[] = [
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
];
