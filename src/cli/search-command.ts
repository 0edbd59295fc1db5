import type { AppConfig } from '../infrastructure/config/config.js';
import { parseWith } from '../infrastructure/http/validation.js';
import { migrated } from '../infrastructure/database.module.js';
import { createSqlClient } from '../infrastructure/sql/create-sql-client.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import { chunksFromConfig } from '../projections/chunks/chunks.config.js';
import { checkpoints } from '../infrastructure/projections/checkpoints.js';
import { servedVersions } from '../projections/chunks/search.module.js';
import { servedVersion } from '../projections/chunks/search.query.js';
import type { SearchResult } from '../projections/chunks/search.js';
import { searchRequestSchema } from '../projections/chunks/search.schema.js';
import type { SearchOptions } from './cli.js';

/**
 * `docsvc search`: the same search as POST /search, run on the database the configuration names. With the
 * embedded database the service must not be running (one process per DATA_DIR); with DATABASE_URL it may.
 */
export async function runSearch(config: AppConfig, query: string, o: SearchOptions, db?: SqlClient) {
  const request = parseWith(
    searchRequestSchema,
    {
      coachId: o.coach,
      query,
      k: Number(o.k),
      mode: o.mode,
      asOf: o.asOf,
      filters:
        o.tag || o.type || o.tier ? { tags: o.tag, documentTypes: o.type, accessTier: o.tier } : undefined,
    },
    'arguments',
  );
  const sql = db ?? (await migrated(await createSqlClient(config)));
  try {
    // The same version as POST /search: while a new configuration builds, the live one it replaces.
    const chunks = chunksFromConfig(config, await checkpoints.live(sql, 'chunks'));
    const { search } = await servedVersion(sql, servedVersions(chunks, sql));
    const results = await search.search(request, Boolean(o.freeOnly));
    return { data: { results }, human: results.length ? results.map(line).join('\n') : 'no results' };
  } finally {
    if (!db) await sql.close();
  }
}

function line(r: SearchResult, i: number): string {
  const where = [`v${r.version}`, r.section && `§ ${r.section}`, r.page && `p. ${r.page}`]
    .filter(Boolean)
    .join(', ');
  const snippet = r.content.replace(/\s+/g, ' ').slice(0, 160);
  return `${i + 1}. ${r.score.toFixed(4)}  ${r.title} (${where}) ${r.documentId}\n   ${snippet}${r.content.length > 160 ? '…' : ''}`;
}
