import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { coachIdSchema } from '../../domain/schemas.js';
import { idParam, json, problems, writeHeaders as headers } from '../../infrastructure/http/openapi-parts.js';
import {
  editSchema,
  eraseSchema,
  fromUrlSchema,
  jsonUploadSchema,
  replaceFileSchema,
  retireSchema,
  rollbackSchema,
  sourcePathSchema,
  writeResultSchema,
} from './schemas.js';

const fileForm = z.object({
  file: z.string().meta({ format: 'binary' }),
  coachId: coachIdSchema,
  metadata: z.string().describe('JSON text of the metadata object'),
  sourcePath: sourcePathSchema.optional(),
});

/** The document commands in the OpenAPI document. */
export const documentCommandRoutes: RouteConfig[] = [
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
      200: json(
        writeResultSchema,
        'The same source is already active for this coach (duplicate: true); with sourcePath, the document at that path updated, unchanged or retired (outcome)',
      ),
      ...problems(400, 401, 403, 413, 415, 422, 429),
    },
  },
  {
    method: 'post',
    path: '/documents/from-url',
    summary:
      "A document from a URL (a web page's article, or a PDF, DOCX or text file), refreshed on a schedule",
    request: { headers, body: { content: { 'application/json': { schema: fromUrlSchema } } } },
    responses: {
      201: json(writeResultSchema, 'Created'),
      200: json(writeResultSchema, 'The coach already has this URL or these bytes (duplicate: true)'),
      ...problems(400, 401, 403, 413, 415, 422, 429, 502, 504),
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
];
