import { QueryBus } from '@nestjs/cqrs';
import type { Principal } from '../domain/access.js';
import type { AppConfig } from '../infrastructure/config/config.js';
import { parseWith } from '../infrastructure/http/validation.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import type { SearchResult } from '../projections/chunks/search.js';
import { SearchQuery, type SearchAnswer } from '../projections/chunks/search.query.js';
import { searchRequestSchema } from '../projections/chunks/search.schema.js';
import { cliPrincipal, withContext } from './app-context.js';
import type { SearchOptions } from './cli.js';

/**
 * `docsvc search`: POST /search's query (SearchQuery through the QueryBus: coach scope and tier, the version that
 * answers, the query cache), as an admin of every coach, or as a free reader with --free-only. With the embedded
 * database the service must not be running (one process per DATA_DIR); with DATABASE_URL it may.
 */
export async function runSearch(config: AppConfig, query: string, o: SearchOptions, db?: SqlClient) {
  // Bad arguments are refused before anything opens (or creates) the database.
  const request = parseWith(searchRequestSchema, requestBody(query, o), 'arguments');
  const answer = await withContext(config, { projectors: false, db }, (get) =>
    get(QueryBus).execute(new SearchQuery(principalOf(o), request)),
  );
  const results = (answer as SearchAnswer).results;
  return { data: { results }, human: results.length ? results.map(line).join('\n') : 'no results' };
}

/** The POST /search body the options stand for. */
function requestBody(query: string, o: SearchOptions): Record<string, unknown> {
  return {
    coachId: o.coach,
    query,
    k: Number(o.k),
    mode: o.mode,
    asOf: o.asOf,
    filters:
      o.tag || o.type || o.tier ? { tags: o.tag, documentTypes: o.type, accessTier: o.tier } : undefined,
  };
}

/** The operator reads every coach and tier; --free-only reads as a free reader of every coach would. */
function principalOf(o: SearchOptions): Principal {
  const operator = cliPrincipal();
  return o.freeOnly ? { ...operator, role: 'reader', tier: 'free' } : operator;
}

function line(r: SearchResult, i: number): string {
  const where = [`v${r.version}`, r.section && `§ ${r.section}`, r.page && `p. ${r.page}`]
    .filter(Boolean)
    .join(', ');
  const snippet = r.content.replace(/\s+/g, ' ').slice(0, 160);
  return `${i + 1}. ${r.score.toFixed(4)}  ${r.title} (${where}) ${r.documentId}\n   ${snippet}${r.content.length > 160 ? '…' : ''}`;
}
