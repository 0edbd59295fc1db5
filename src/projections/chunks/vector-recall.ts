import { performance } from 'node:perf_hooks';
import type { SqlClient, SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { literal, vectorSearchSettings, type VectorIndexConfig } from './vector-index.js';

/** The recall measured is recall@RECALL_K over at most RECALL_SAMPLE queries: a bounded cost per report. */
export const RECALL_SAMPLE = 20;
export const RECALL_K = 10;

/** The vectors an index covers: one configuration's current chunks, and the index built for them. */
export interface VectorTarget {
  space: string;
  chunker: string;
  dimensions: number;
  index: VectorIndexConfig;
}

export interface RecallMeasurement {
  /** Queries run (stored chunks' own vectors): fewer than RECALL_SAMPLE on a smaller corpus. */
  sampled: number;
  k: number;
  /**
   * Share of the exact k nearest that the index returned (ties at the k-th distance count as found); null when
   * nothing was measured.
   */
  recall: number | null;
  /** Whether the planner walked the named index (on the first sampled query); when it did not, nothing is measured. */
  indexUsed: boolean;
  meanIndexMs: number;
  meanExactMs: number;
}

/**
 * Recall of the vector index against exact search, as search runs it (the same session settings), on the index's
 * own rows: each query is a stored chunk's vector, answered once by the index and once exactly (the OFFSET 0
 * subquery keeps the planner from ordering through the index, as in vector-search.ts). One statement at a
 * time, so that other work goes between them on the embedded database's one session.
 */
export async function measureRecall(
  sql: SqlClient,
  target: VectorTarget,
  indexName: string,
): Promise<RecallMeasurement> {
  const statements = recallSql(target);
  const { rows: sample } = await sql.query<{ id: string }>(statements.sample);
  const none = { sampled: 0, k: RECALL_K, recall: null, meanIndexMs: 0, meanExactMs: 0 };
  if (sample.length === 0) return { ...none, indexUsed: false };
  const explain = `EXPLAIN (FORMAT JSON) ${statements.indexed}`;
  if (!(await usesIndex(sql, target, explain, sample[0]!.id, indexName)))
    return { ...none, indexUsed: false };
  let found = 0;
  let expected = 0;
  const ms = { index: 0, exact: 0 };
  for (const { id } of sample) {
    const started = performance.now();
    const byIndex = await withSettings(sql, target, (tx) => distances(tx, statements.indexed, id));
    const between = performance.now();
    const byExact = await distances(sql, statements.exact, id);
    ms.exact += performance.now() - between;
    ms.index += between - started;
    const kth = byExact[byExact.length - 1] ?? 0;
    expected += byExact.length;
    found += Math.min(byExact.length, byIndex.filter((d) => d <= kth + DISTANCE_EPSILON).length);
  }
  const n = sample.length;
  return {
    ...{ sampled: n, k: RECALL_K, recall: expected ? found / expected : null, indexUsed: true },
    ...{ meanIndexMs: ms.index / n, meanExactMs: ms.exact / n },
  };
}

/**
 * The sample (spread over the corpus by a hash of the id, the same on every report), and the two searches of one
 * sampled chunk's vector: through the index (ORDER BY the distance, as search asks it) and exactly.
 */
function recallSql(target: VectorTarget): { sample: string; indexed: string; exact: string } {
  const where = `c.is_current AND c.space = ${literal(target.space)} AND c.chunker = ${literal(target.chunker)}`;
  const vector = `c.embedding::vector(${target.dimensions})`;
  const query = `(SELECT embedding::vector(${target.dimensions}) FROM chunks WHERE id = $1::bigint)`;
  return {
    sample: `SELECT c.id::text AS id FROM chunks c WHERE ${where} ORDER BY md5(c.id::text) LIMIT ${RECALL_SAMPLE}`,
    indexed: `SELECT ${vector} <=> ${query} AS distance FROM chunks c WHERE ${where}
      ORDER BY ${vector} <=> ${query} LIMIT ${RECALL_K}`,
    exact: `SELECT distance FROM (SELECT ${vector} <=> ${query} AS distance FROM chunks c WHERE ${where} OFFSET 0) d
      ORDER BY distance LIMIT ${RECALL_K}`,
  };
}

/** Distances are computed in float; the index's and the exact scan's may differ in their last bits. */
const DISTANCE_EPSILON = 1e-9;

async function distances(on: SqlExecutor, text: string, id: string): Promise<number[]> {
  const { rows } = await on.query<{ distance: number }>(text, [id]);
  return rows.map((r) => Number(r.distance));
}

/** Search's own settings, and sequential scans made dear so that the planner's choice is the index's to lose. */
function withSettings<T>(
  sql: SqlClient,
  target: VectorTarget,
  fn: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  return sql.transaction(async (tx) => {
    for (const setting of vectorSearchSettings(target.index)) await tx.exec(setting);
    await tx.exec('SET LOCAL enable_seqscan = off');
    return fn(tx);
  });
}

async function usesIndex(
  sql: SqlClient,
  target: VectorTarget,
  explain: string,
  id: string,
  indexName: string,
): Promise<boolean> {
  const { rows } = await withSettings(sql, target, (tx) => tx.query<Record<string, unknown>>(explain, [id]));
  return JSON.stringify(rows[0] ?? {}).includes(`"Index Name":"${indexName}"`);
}
