import { filterColumns } from '../../src/infrastructure/performance/filter-columns.js';
import { SlowStatementSource } from '../../src/infrastructure/performance/slow-statements.js';
import type { SqlClient } from '../../src/infrastructure/sql/sql-client.js';
import {
  MAX_PATTERN_CHARS,
  statementPattern,
} from '../../src/infrastructure/performance/statement-pattern.js';
import { StatementTimings } from '../../src/infrastructure/performance/statement-timings.js';
import type { VectorIndexConfig } from '../../src/projections/chunks/vector-index.js';
import type { RecallMeasurement } from '../../src/projections/chunks/vector-recall.js';
import {
  INDEX_LATENCY_HIGH_MS,
  RECALL_TARGET,
  tuningAdvice,
} from '../../src/projections/chunks/vector-tuning.js';

const since = new Date('2026-01-01T00:00:00Z');

describe('statementPattern', () => {
  it('groups WHERE id = 1 and WHERE id = 2 (and a parameter) as one pattern', () => {
    const one = statementPattern('SELECT * FROM documents WHERE id = 1');
    expect(statementPattern('SELECT * FROM documents WHERE id = 2')).toBe(one);
    expect(statementPattern('SELECT *\n  FROM documents\n WHERE id = $1')).toBe(one);
    expect(one).toBe('SELECT * FROM documents WHERE id = ?');
  });

  it('keeps statements that differ in more than their literals apart', () => {
    expect(statementPattern('SELECT * FROM documents WHERE id = 1')).not.toBe(
      statementPattern('SELECT * FROM documents WHERE coach_id = 1'),
    );
    expect(statementPattern('SELECT * FROM t1 WHERE x = 1')).not.toBe(
      statementPattern('SELECT * FROM t2 WHERE x = 1'),
    );
  });

  it('replaces strings, numbers and dollar-quoted text; keeps identifiers with digits and quoted names', () => {
    expect(
      statementPattern(
        `SELECT "Col 1", part0, $q$it's$q$ FROM t WHERE a = 'O''Brien' AND b = -1.5e3 AND c = E'\\''`,
      ),
    ).toBe('SELECT "Col 1", part0, ? FROM t WHERE a = ? AND b = -? AND c = ?');
  });

  it('drops comments, nested ones included, and collapses whitespace', () => {
    expect(statementPattern('SELECT 1 -- why\n /* a /* nested */ b */  FROM\tt')).toBe('SELECT ? FROM t');
  });

  it('makes lists of any length one placeholder: IN lists and multi-row VALUES', () => {
    expect(statementPattern('SELECT 1 FROM t WHERE id IN (1, 2, 3)')).toBe(
      statementPattern('SELECT 1 FROM t WHERE id IN (7)'),
    );
    expect(statementPattern('INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)')).toBe(
      statementPattern('INSERT INTO t (a, b) VALUES (1, 2)'),
    );
  });

  it('cuts a very long statement to a bounded pattern', () => {
    const long = `SELECT ${Array.from({ length: 2_000 }, (_, i) => `c${i}`).join(', ')} FROM t`;
    expect(statementPattern(long).length).toBeLessThanOrEqual(MAX_PATTERN_CHARS + 1);
  });
});

describe('StatementTimings', () => {
  it('keeps only statements at or over the threshold, summed by pattern', () => {
    const timings = new StatementTimings(10, since);
    timings.record('SELECT * FROM t WHERE id = 1', 12, 1);
    timings.record('SELECT * FROM t WHERE id = 2', 30, 3);
    timings.record('SELECT * FROM t WHERE id = 3', 9, 1);
    expect(timings.all()).toEqual([
      {
        pattern: 'SELECT * FROM t WHERE id = ?',
        calls: 2,
        totalMs: 42,
        meanMs: 21,
        maxMs: 30,
        rows: 4,
        meanRows: 2,
      },
    ]);
  });

  it('is bounded in patterns: a new one takes the place of the one with the least total time', () => {
    const timings = new StatementTimings(0, since, 2);
    timings.record('SELECT a FROM t', 50, 0);
    timings.record('SELECT b FROM t', 5, 0);
    timings.record('SELECT c FROM t', 20, 0);
    expect(timings.size).toBe(2);
    expect(timings.all().map((s) => s.pattern)).toEqual(['SELECT a FROM t', 'SELECT c FROM t']);
  });
});

describe('filterColumns', () => {
  const columns = new Set(['id', 'owner', 'coach_id', 'status']);

  it('finds the columns a statement compares with a placeholder, through aliases', () => {
    expect(filterColumns('SELECT id FROM probe WHERE owner = ?', 'probe', columns)).toEqual(['owner']);
    expect(
      filterColumns(
        'SELECT p.id FROM probe p JOIN other o ON o.id = p.id WHERE p.coach_id = ? AND o.owner = ? ORDER BY p.id',
        'probe',
        columns,
      ),
    ).toEqual(['coach_id']);
    expect(filterColumns('UPDATE probe SET owner = ? WHERE status = ANY (?)', 'probe', columns)).toEqual([
      'status',
    ]);
  });

  it('finds nothing in a statement on another table', () => {
    expect(filterColumns('SELECT id FROM other WHERE owner = ?', 'probe', columns)).toEqual([]);
  });
});

describe('tuningAdvice', () => {
  const hnsw: VectorIndexConfig = { kind: 'hnsw', m: 24, efSearch: 100, efConstruction: 160 };
  const ivfflat: VectorIndexConfig = { kind: 'ivfflat', lists: 100, probes: 10 };
  const measured = (recall: number, meanIndexMs = 5): RecallMeasurement => ({
    ...{ sampled: 20, k: 10, recall, indexUsed: true, meanIndexMs, meanExactMs: 40 },
  });

  it('recommends raising ef_search or probes when recall is below the target', () => {
    const [hnswAdvice] = tuningAdvice(hnsw, measured(RECALL_TARGET - 0.1));
    expect(hnswAdvice).toMatchObject({ code: 'VECTOR_RECALL_LOW', evidence: { setting: 'HNSW_EF_SEARCH' } });
    expect(hnswAdvice!.evidence.suggested).toBe(200);
    const [ivfAdvice] = tuningAdvice(ivfflat, measured(0.5));
    expect(ivfAdvice).toMatchObject({ code: 'VECTOR_RECALL_LOW', evidence: { setting: 'IVFFLAT_PROBES' } });
    expect(ivfAdvice!.evidence.suggested).toBe(20);
  });

  it('recommends lowering the effort only when recall is far above the target and the index is slow', () => {
    expect(tuningAdvice(hnsw, measured(1, INDEX_LATENCY_HIGH_MS / 2))).toEqual([]);
    const [advice] = tuningAdvice(hnsw, measured(1, INDEX_LATENCY_HIGH_MS * 2));
    expect(advice).toMatchObject({ code: 'VECTOR_SEARCH_EFFORT_HIGH', evidence: { suggested: 50 } });
  });

  it('says nothing at the target, or when the index was not used', () => {
    expect(tuningAdvice(hnsw, measured(RECALL_TARGET))).toEqual([]);
    expect(tuningAdvice(hnsw, { ...measured(0), indexUsed: false })).toEqual([]);
  });
});

describe('SlowStatementSource', () => {
  /** A server whose catalog answers as `state` says, and whose pg_stat_statements view fails with `viewError`. */
  const server = (state: { installed: boolean; may: boolean }, viewError?: Error & { code?: string }) => {
    const statements: string[] = [];
    const sql = {
      kind: 'postgres' as const,
      async query(text: string) {
        statements.push(text);
        if (text.includes('FROM pg_extension'))
          return { rows: state.installed ? [{ schema: 'public' }] : [], rowCount: 1 };
        if (text.includes('AS may')) return { rows: [{ available: true, may: state.may }], rowCount: 1 };
        if (text.includes('.pg_stat_statements ') || text.includes('.pg_stat_statements\n')) {
          if (viewError) throw viewError;
          return { rows: [{ query: 'SELECT 1', calls: 1, totalMs: 1, maxMs: 1, rows: 1 }], rowCount: 1 };
        }
        return { rows: [], rowCount: 0 };
      },
      async exec(script: string) {
        statements.push(script);
      },
    };
    return { sql: sql as unknown as SqlClient, statements };
  };
  const own = () => {
    const timings = new StatementTimings(0, since);
    timings.record('SELECT * FROM t WHERE id = 7', 3, 1);
    return timings;
  };

  it('falls back to the service timing when the library is not preloaded', async () => {
    const notLoaded = Object.assign(
      new Error('pg_stat_statements must be loaded via shared_preload_libraries'),
      {
        code: '55000',
      },
    );
    const { sql } = server({ installed: true, may: true }, notLoaded);
    const slow = await new SlowStatementSource(sql, own()).read();
    expect(slow).toMatchObject({ source: 'service_timing', since: since.toISOString() });
    expect(slow.sourceDetail).toMatch(/shared_preload_libraries/);
    expect(slow.statements.map((s) => s.pattern)).toEqual(['SELECT * FROM t WHERE id = ?']);
  });

  it('does not try to create the extension when the role may not', async () => {
    const { sql, statements } = server({ installed: false, may: false });
    const slow = await new SlowStatementSource(sql, own()).read();
    expect(slow.source).toBe('service_timing');
    expect(slow.sourceDetail).toMatch(/may not create it/);
    expect(statements.some((s) => /CREATE EXTENSION/.test(s))).toBe(false);
  });

  it('reads pg_stat_statements when it is installed and loaded', async () => {
    const { sql } = server({ installed: true, may: false });
    const slow = await new SlowStatementSource(sql, own()).read();
    expect(slow.source).toBe('pg_stat_statements');
    expect(slow.statements.map((s) => s.pattern)).toEqual(['SELECT ?']);
  });
});
