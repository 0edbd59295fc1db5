import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { restoreSchema } from '../../commands/restore-coach/restore-coach.js';
import { changelogParamsSchema, CHANGE_TYPES } from '../../projections/documents/changelog.query.js';
import { diffParamsSchema } from '../../projections/document-versions/history-queries.js';

interface Helpers {
  json: (schema: z.ZodType, description?: string) => RouteConfig['responses'][string];
  problems: (...statuses: number[]) => RouteConfig['responses'];
  idParam: z.ZodObject;
}

const versionEntry = z
  .object({
    version: z.number().int(),
    change: z.enum(CHANGE_TYPES),
    changeSummary: z.string().nullable(),
    actor: z.string().describe('the id of the API key (or cli:<user>) that wrote it'),
    at: z.string(),
    position: z.string(),
    status: z.enum(['active', 'retired', 'erased']),
    rolledBackTo: z.number().int().optional(),
  })
  .meta({ id: 'VersionEntry' });

const changelogEntry = z
  .object({
    position: z.string(),
    documentId: z.uuid(),
    coachId: z.string(),
    version: z.number().int(),
    type: z.enum(CHANGE_TYPES),
    actor: z.string(),
    at: z.string(),
    summary: z.string(),
  })
  .meta({ id: 'ChangelogEntry' });

const restoreAction = z.object({
  documentId: z.uuid(),
  action: z.enum(['rollback', 'retire']),
  fromVersion: z.number().int(),
  toVersion: z.number().int().optional(),
  reason: z.string(),
  version: z.number().int().optional().describe('the new version (not in a dry run)'),
  position: z.string().optional(),
});

/** The time-travel routes (issue #5): history, diff, changelog and its live feed, restore, rebuild. */
export function historyRoutes({ json, problems, idParam }: Helpers): RouteConfig[] {
  return [
    {
      method: 'get',
      path: '/documents/{id}/versions',
      summary: 'Every version: what changed, who, when, why, and its position',
      description: 'A free reader does not see the versions in which the document was premium.',
      request: { params: idParam },
      responses: {
        200: json(z.object({ documentId: z.uuid(), versions: z.array(versionEntry) })),
        ...problems(401, 404),
      },
    },
    {
      method: 'get',
      path: '/documents/{id}/diff',
      summary: 'The difference between any two versions',
      description:
        'unified: a unified line diff; changes.words: the word-level diff (equal/insert/delete runs, which ' +
        'rebuild the `to` text); changes.metadata: the fields that changed. Texts over 2,000,000 characters, or a ' +
        'diff taking over 5 s, answer 422 DIFF_TOO_LARGE.',
      request: { params: idParam, query: diffParamsSchema },
      responses: {
        200: json(
          z.object({
            documentId: z.uuid(),
            from: z.number().int(),
            to: z.number().int(),
            unified: z.string(),
            changes: z.object({
              title: z.object({ from: z.string().nullable(), to: z.string().nullable() }).nullable(),
              metadata: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
              words: z.array(z.object({ op: z.enum(['equal', 'insert', 'delete']), text: z.string() })),
            }),
          }),
        ),
        ...problems(400, 401, 404, 410, 422),
      },
    },
    {
      method: 'get',
      path: '/changelog',
      summary: 'Every change to the documents this key may see, in the global order',
      request: { query: changelogParamsSchema },
      responses: {
        200: json(z.object({ entries: z.array(changelogEntry), next: z.string().nullable() })),
        ...problems(400, 401, 403),
      },
    },
    {
      method: 'get',
      path: '/changelog/stream',
      summary: 'The changelog as server-sent events (resumable with Last-Event-ID)',
      description:
        'Same filters as /changelog. Each entry is an event `change` whose `id` is its position; a client that ' +
        'reconnects with Last-Event-ID (or ?after=) gets what followed. A comment line every 15 s keeps it alive.',
      request: {
        query: changelogParamsSchema.omit({ limit: true }),
        headers: z.object({ 'last-event-id': z.string().optional() }),
      },
      responses: {
        200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
        ...problems(400, 401, 403),
      },
    },
    {
      method: 'post',
      path: '/coaches/{coachId}/restore',
      summary: "Bring a coach's corpus back to how it was at asOf, by new events (admin)",
      description:
        'Documents changed since are rolled back to their version of then, documents created since are retired, ' +
        'documents retired since are brought back. Erased documents stay erased. A second run changes nothing.',
      request: {
        params: z.object({ coachId: z.string() }),
        body: { content: { 'application/json': { schema: restoreSchema } } },
      },
      responses: {
        200: json(
          z.object({
            coachId: z.string(),
            asOf: z.string(),
            dryRun: z.boolean(),
            changes: z.array(restoreAction),
            unchanged: z.number().int(),
            erased: z.array(z.uuid()),
            failed: z.array(z.object({ documentId: z.uuid(), code: z.string(), detail: z.string() })),
          }),
        ),
        ...problems(400, 401, 403),
      },
    },
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
        202: json(
          z.object({ name: z.string(), status: z.enum(['rebuilt', 'rebuild_requested']) }),
          'Accepted',
        ),
        ...problems(401, 403, 404),
      },
    },
  ];
}
