import type {
  Advice,
  AdviceContext,
  PerformanceAdvisor,
  Recommendation,
  TableStats,
} from '../../infrastructure/performance/recommendation.js';
import { INDEX_MIN_SEQ_SCANS } from '../../infrastructure/performance/table-advice.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { chunksFromConfig } from './chunks.config.js';
import { currentChunks } from './pending-work.js';
import { EXACT_SEARCH_MAX } from './planner-estimates.js';
import { vectorIndexName } from './vector-index.js';
import { measureRecall, type VectorTarget } from './vector-recall.js';
import { tuningAdvice } from './vector-tuning.js';

export interface VectorAdvisorOptions extends VectorTarget {
  /** The chunks projection's version (its lag says whether a missing index may be a load's, deferred). */
  version: number;
  /** The indexes exist from this many current chunks up (VECTOR_INDEX_MIN_CHUNKS): fewer, absent by design. */
  minChunks: number;
}

/** The advisor of this process's chunks configuration, as the app module builds it. */
export function chunksVectorAdvisor(chunks: ReturnType<typeof chunksFromConfig>): PerformanceAdvisor {
  return vectorAdvisor({
    ...{
      space: chunks.projection.space,
      chunker: chunks.projection.chunker,
      version: chunks.projection.version,
    },
    ...{ dimensions: chunks.embedder.dimensions, index: chunks.index, minChunks: chunks.indexMinChunks },
  });
}

interface IndexRow {
  name: string;
  valid: boolean;
  sizeBytes: number;
}

/**
 * The pgvector part of the report, for this process's chunks configuration: its vector indexes missing (where
 * the corpus is large enough to have them) or invalid, the search effort (ef_search / probes) against the
 * recall measured on the index, and sequential scans of chunks where the corpus is past exact search's size.
 */
export function vectorAdvisor(options: VectorAdvisorOptions): PerformanceAdvisor {
  const names = (['current', 'past'] as const).map((c) =>
    vectorIndexName(options.index, options.space, options.chunker, c),
  );
  return {
    name: 'vectorIndex',
    async advise(context: AdviceContext): Promise<Advice> {
      const chunks = await currentChunks(context.sql, [options.space, options.chunker]);
      const indexes = await readIndexes(context.sql, names);
      const missing = names.filter((n) => !indexes.some((i) => i.name === n));
      const invalid = indexes.filter((i) => !i.valid).map((i) => i.name);
      const due = chunks >= options.minChunks;
      const lag = context.projections.find((p) => p.name === 'chunks' && p.version === options.version)?.lag;
      const current = indexes.find((i) => i.name === names[0] && i.valid);
      const recall =
        current && context.measure ? await measureRecall(context.sql, options, current.name) : null;
      const recommendations = [
        ...(missing.length > 0 && due ? [missingAdvice(missing, chunks, options, lag ?? null)] : []),
        ...(invalid.length > 0 ? [invalidAdvice(invalid, chunks)] : []),
        ...(recall ? tuningAdvice(options.index, recall) : []),
        ...scanAdvice(context.tables.find((t) => t.table === 'chunks')),
      ];
      const state = stateOf(current !== undefined, invalid.includes(names[0]!), due);
      return {
        recommendations,
        summary: {
          ...{ kind: options.index.kind, name: names[0], state, currentChunks: chunks },
          ...{ minChunks: options.minChunks, indexes, recall },
        },
      };
    },
  };
}

/** The current chunks' index: `not_needed` when it is absent by design (fewer chunks than minChunks). */
function stateOf(valid: boolean, invalid: boolean, due: boolean): string {
  if (valid) return 'valid';
  if (invalid) return 'invalid';
  return due ? 'missing' : 'not_needed';
}

async function readIndexes(sql: SqlExecutor, names: string[]): Promise<IndexRow[]> {
  const { rows } = await sql.query<IndexRow>(
    `SELECT c.relname AS name, i.indisvalid AS valid, pg_relation_size(c.oid)::float8 AS "sizeBytes"
     FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY ($1::text[]) ORDER BY c.relname`,
    [names],
  );
  return rows;
}

function missingAdvice(
  missing: string[],
  chunks: number,
  options: VectorAdvisorOptions,
  lag: number | null,
): Recommendation {
  const loading = lag !== null && lag > 0;
  return {
    code: 'VECTOR_INDEX_MISSING',
    severity: loading ? 'info' : 'warning',
    message:
      `the ${options.index.kind} vector index of the chunks (${missing.join(', ')}) is missing with ` +
      `${chunks} current chunks (it is due from ${options.minChunks}): every vector search scans them all. ` +
      (loading
        ? 'The projector is behind: a load drops it and builds it once caught up.'
        : 'Restart the service or rebuild the chunks projection to build it.'),
    evidence: { missing, currentChunks: chunks, minChunks: options.minChunks, projectorLag: lag },
  };
}

function invalidAdvice(invalid: string[], chunks: number): Recommendation {
  return {
    code: 'VECTOR_INDEX_INVALID',
    severity: 'critical',
    message:
      `the vector index ${invalid.join(', ')} is invalid (an interrupted concurrent build or reindex): the ` +
      'planner does not use it but every write still maintains it. ' +
      `REINDEX INDEX CONCURRENTLY ${invalid[0]}, or drop it and restart the service to build it again.`,
    evidence: { invalid, currentChunks: chunks },
  };
}

/** Sequential scans of chunks are exact search's design up to EXACT_SEARCH_MAX chunks; past it, a sign. */
function scanAdvice(table: TableStats | undefined): Recommendation[] {
  if (!table || table.liveRows <= EXACT_SEARCH_MAX) return [];
  if (table.seqScans < INDEX_MIN_SEQ_SCANS || table.seqScans <= table.idxScans) return [];
  return [
    {
      code: 'CHUNKS_SEQUENTIAL_SCANS',
      severity: 'warning',
      message:
        `chunks (${table.liveRows} rows) is read by sequential scan ${table.seqScans} times against ` +
        `${table.idxScans} index scans: check that the vector index is there and valid, run ANALYZE chunks ` +
        "so that the planner's estimates are current, and look at the statements on chunks above",
      evidence: { ...table },
    },
  ];
}
