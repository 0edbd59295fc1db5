import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { CurrentPrincipal } from '../../infrastructure/auth/auth.guard.js';
import type { Principal } from '../../domain/access.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SearchQuery, type SearchAnswer } from './search.query.js';
import { searchRequestSchema } from './search.schema.js';

/** The query API's search: any valid key, within its coaches and tier. */
@Controller('search')
export class SearchController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Post()
  @HttpCode(200)
  search(@CurrentPrincipal() p: Principal, @Body() body: unknown): Promise<SearchAnswer> {
    return this.queries.execute(new SearchQuery(p, parseWith(searchRequestSchema, body, 'body')));
  }
}
