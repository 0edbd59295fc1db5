import { filterColumns } from './filter-columns.js';
import type {
  Advice,
  AdviceContext,
  PerformanceAdvisor,
  Recommendation,
  TableStats,
} from './recommendation.js';
import type { StatementStats } from './statement-timings.js';
import { readTableColumns, type TableColumns } from './table-stats.js';

/**
 * Below this many rows a sequential scan is what the planner rightly prefers (a few pages): no index advice.
 */
export const INDEX_MIN_ROWS = 1_000;
/** A table is scanned sequentially "often" from this many scans on, and when they outnumber its index scans. */
export const INDEX_MIN_SEQ_SCANS = 10;
/** A statement that returns this many rows a call on average is a page that should be smaller. */
export const LARGE_RESULT_ROWS = 1_000;

/** The seed's classic advice: an index for a frequent filter read by sequential scans, pagination for large reads. */
export const tableAdvisor: PerformanceAdvisor = {
  name: 'tables',
  async advise({ sql, statements, tables }: AdviceContext): Promise<Advice> {
    const scanned = tables.filter(
      (t) => t.liveRows >= INDEX_MIN_ROWS && t.seqScans >= INDEX_MIN_SEQ_SCANS && t.seqScans > t.idxScans,
    );
    const columns = await readTableColumns(
      sql,
      scanned.map((t) => t.table),
    );
    const byCalls = [...statements].sort((a, b) => b.calls - a.calls);
    return {
      recommendations: [
        ...scanned.flatMap((t) => indexAdvice(t, columns.get(t.table), byCalls)),
        ...statements.flatMap(paginationAdvice),
      ],
      summary: { sequentiallyScannedTables: scanned.map((t) => t.table) },
    };
  },
};

/** The most frequent statement on `table` whose filter no index leads: an index on its filter columns. */
function indexAdvice(
  table: TableStats,
  columns: TableColumns | undefined,
  byCalls: StatementStats[],
): Recommendation[] {
  if (!columns) return [];
  for (const statement of byCalls) {
    const filter = filterColumns(statement.pattern, table.table, columns.columns);
    if (filter.length === 0 || filter.some((c) => columns.leadingIndexed.has(c))) continue;
    const ddl = `CREATE INDEX CONCURRENTLY ON ${table.table} (${filter.join(', ')})`;
    return [
      {
        code: 'INDEX_FOR_FREQUENT_FILTER',
        severity: 'warning',
        message:
          `${table.table} (${table.liveRows} rows) is read by sequential scan ${table.seqScans} times ` +
          `against ${table.idxScans} index scans, and a frequent statement filters it on ` +
          `${filter.join(', ')}, which no index leads: consider ${ddl}`,
        evidence: {
          table: table.table,
          columns: filter,
          statement: statement.pattern,
          calls: statement.calls,
          meanMs: statement.meanMs,
          ...{ seqScans: table.seqScans, idxScans: table.idxScans, seqRowsRead: table.seqRowsRead },
          ...{ liveRows: table.liveRows, sizeBytes: table.sizeBytes, suggestedIndex: ddl },
        },
      },
    ];
  }
  return [];
}

/** A read (SELECT or WITH … SELECT) that returns LARGE_RESULT_ROWS rows a call or more. */
function paginationAdvice(statement: StatementStats): Recommendation[] {
  if (statement.meanRows < LARGE_RESULT_ROWS || !/^\s*(select|with)\b/i.test(statement.pattern)) return [];
  const limited = /\blimit\b/i.test(statement.pattern);
  return [
    {
      code: 'PAGINATE_LARGE_RESULTS',
      severity: 'warning',
      message:
        `a statement returns ${Math.round(statement.meanRows)} rows a call on average (${statement.calls} calls): ` +
        (limited
          ? 'its LIMIT is larger than a page; read it in smaller pages'
          : 'read it in pages (keyset pagination: WHERE key > last ORDER BY key LIMIT n)'),
      evidence: {
        statement: statement.pattern,
        calls: statement.calls,
        meanRows: statement.meanRows,
        meanMs: statement.meanMs,
        hasLimit: limited,
      },
    },
  ];
}
