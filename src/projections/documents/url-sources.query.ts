import { Controller, Get, Inject, Query as QueryParams } from '@nestjs/common';
import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { z } from 'zod';
import { coachIdSchema } from '../../domain/schemas.js';
import { RequireRole } from '../../infrastructure/auth/auth.guard.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { urlSources, type UrlSource } from '../../infrastructure/url-sources/url-sources.js';

export const sourcesFiltersSchema = z.object({
  coachId: coachIdSchema.optional(),
  failing: z.stringbool().optional().describe('only sources whose last attempt failed'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.uuid({ error: 'cursor must be a nextCursor returned by this endpoint' }).optional(),
});
export type SourcesFilters = z.infer<typeof sourcesFiltersSchema>;

export interface SourcesPage {
  items: Array<UrlSource & { title: string | null; status: string }>;
  nextCursor: string | null;
}

export class ListUrlSourcesQuery extends Query<SourcesPage> {
  constructor(readonly filters: SourcesFilters) {
    super();
  }
}

@QueryHandler(ListUrlSourcesQuery)
export class ListUrlSourcesHandler implements IQueryHandler<ListUrlSourcesQuery, SourcesPage> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  execute({ filters }: ListUrlSourcesQuery): Promise<SourcesPage> {
    return urlSources.list(this.sql, filters);
  }
}

/** GET /admin/sources: every URL source with its last fetch, next refresh and failures (admin). */
@Controller('admin/sources')
@RequireRole('admin')
export class AdminSourcesController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  list(@QueryParams() query: unknown): Promise<SourcesPage> {
    return this.queries.execute(new ListUrlSourcesQuery(parseWith(sourcesFiltersSchema, query, 'query')));
  }
}
