import type { Check, ReadinessCheck, ReadinessContext } from '../../infrastructure/health/readiness-check.js';
import { rowCount } from '../../infrastructure/health/row-counts.js';
import type { SqlClient } from '../../infrastructure/sql/sql-client.js';
import { currentChunks } from './pending-work.js';
import { servedVersion, type ServedVersion } from './search.query.js';
import { isVectorIndexOf } from './vector-index.js';

/** The text (BM25) indexes the migrations create: current chunks, and past ones for as-of searches. */
const TEXT_INDEXES = ['chunks_tsv', 'chunks_tsv_past'];

const NOT_NEEDED =
  'absent by design below VECTOR_INDEX_MIN_CHUNKS current chunks: every vector search is an exact scan';

interface IndexRow {
  name: string;
  valid: boolean;
  sizeBytes: number;
}

const INDEXES_SQL = `SELECT c.relname AS name, i.indisvalid AS valid, pg_relation_size(i.indexrelid)::float8 AS "sizeBytes"
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('chunks')
  ORDER BY c.relname`;

/** The chunks' readiness checks, provided by SearchModule for the app module to hand to readiness. */
export const SEARCH_READINESS_CHECKS = Symbol('SEARCH_READINESS_CHECKS');

/**
 * Readiness's `chunks` and `searchIndexes`, for the chunks version that answers searches. `minChunks` is
 * VECTOR_INDEX_MIN_CHUNKS as configured (below it the vector index is absent on purpose).
 */
export function searchReadinessChecks(versions: ServedVersion[], minChunks: number): ReadinessCheck[] {
  return [
    {
      name: 'chunks',
      async check(sql) {
        const { projection } = await servedVersion(sql, versions);
        const current = await currentChunks(sql, [projection.space, projection.chunker]);
        const all = await rowCount(sql, 'chunks');
        return { status: 'ok', current, total: all.total, estimated: all.estimated };
      },
    },
    { name: 'searchIndexes', check: (sql, context) => indexesCheck(sql, context, versions, minChunks) },
  ];
}

/**
 * Each index's validity (pg_index.indisvalid: false after a failed concurrent build) and size. The served
 * version's vector index is `valid`, or absent on purpose: `not_needed` (fewer current chunks than
 * minChunks: every vector search is an exact scan) or `deferred` (dropped for a load, built once the projector has
 * caught up); absent otherwise is `missing`. A missing or invalid index makes readiness degraded.
 */
async function indexesCheck(
  sql: SqlClient,
  context: ReadinessContext,
  versions: ServedVersion[],
  minChunks: number,
): Promise<Check> {
  const { projection } = await servedVersion(sql, versions);
  const { space, chunker } = projection;
  const { rows } = await sql.query<IndexRow>(INDEXES_SQL);
  const text = TEXT_INDEXES.map((name) => rows.find((r) => r.name === name) ?? { name, missing: true });
  const vectors = rows.filter((r) => isVectorIndexOf(r.name, space, chunker));
  const current = vectors.find((r) => !r.name.endsWith('_past'));
  const chunks = await currentChunks(sql, [space, chunker]);
  const lag = context.projections.find((p) => p.name === 'chunks' && p.version === projection.version)?.lag;
  const state = vectorState(current, chunks < minChunks, (lag ?? 0) > 0);
  const invalid = rows.filter((r) => !r.valid).map((r) => r.name);
  const problems = problemsOf(state, chunks, invalid, text);
  return {
    status: problems.length > 0 ? 'degraded' : 'ok',
    ...(problems.length > 0 && { reason: problems.join('; ') }),
    vector: {
      ...{ state, currentChunks: chunks, minChunks, indexes: vectors },
      ...(state === 'not_needed' && { note: NOT_NEEDED }),
    },
    text: { indexes: text },
    invalid,
  };
}

function problemsOf(
  state: string,
  chunks: number,
  invalid: string[],
  text: Array<{ name: string }>,
): string[] {
  return [
    ...(state === 'missing' ? [`the vector index is missing with ${chunks} current chunks`] : []),
    ...invalid.map((name) => `index ${name} is invalid`),
    ...text.filter((t) => 'missing' in t).map((t) => `text index ${t.name} is missing`),
  ];
}

/** The states of GET /admin/performance's vector index (vector-advice.ts), and `deferred` for a load's. */
function vectorState(current: IndexRow | undefined, belowThreshold: boolean, behind: boolean): string {
  if (current) return current.valid ? 'valid' : 'invalid';
  if (belowThreshold) return 'not_needed';
  return behind ? 'deferred' : 'missing';
}
