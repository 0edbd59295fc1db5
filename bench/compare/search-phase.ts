/**
 * The searches of one round, interleaved query by query across the peers (the machine's speed drifts during a
 * run): docsvc's POST /search in each mode, the bare HNSW query on docsvc's own chunks table, and each LangChain
 * set-up's similaritySearchWithScore. Each result list is judged against the exact nearest neighbours of its own
 * table.
 */
import pg from 'pg';
import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import { DEFAULT_VECTOR_INDEX } from '../../src/projections/chunks/vector-index.js';
import { COACH, bareHnswSql, chunkScope, search } from './docsvc-side.js';
import { docsvcVectorSql } from './docsvc-sql.js';
import type { LangChainPeer } from './peers.js';
import { exactKth, recallOf, vectorLiteral } from './measure.js';

export const K = 10;

/** Latencies (ms) and recalls of one kind of search, pooled over the rounds. */
export interface Series {
  ms: number[];
  recall: number[];
  indexUsed?: boolean;
}
export type SearchFigures = Record<string, Series>;
/** EXPLAIN ANALYZE of the SQL docsvc runs for a vector search, and of the bare HNSW query (first query). */
export const plans: Record<string, string> = {};

export interface Targets {
  docsvcBase: string;
  docsvcSql: pg.Client;
  langchain: Array<{ name: string; peer: LangChainPeer; sql: pg.Client; table: string }>;
}

const add = (figures: SearchFigures, name: string, ms: number, recall?: number) => {
  const s = (figures[name] ??= { ms: [], recall: [] });
  s.ms.push(ms);
  if (recall !== undefined) s.recall.push(recall);
};

/** Whether LangChain's own query text is served by an index on its table (EXPLAIN). */
async function usesIndex(sql: pg.Client, table: string, vector: string): Promise<boolean> {
  const { rows } = await sql.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN SELECT *, "embedding" <=> '${vector}' as "_distance" FROM ${table} ORDER BY "_distance" ASC LIMIT ${K}`,
  );
  return rows.some((r) => /Index Scan/.test(r['QUERY PLAN']));
}

export async function searchRound(t: Targets, queries: string[], figures: SearchFigures, warmup: number) {
  const embedder = new LocalEmbedder();
  const dims = embedder.dimensions;
  const vectors = (await embedder.embed(queries)).map(vectorLiteral);
  const scope = await chunkScope(t.docsvcSql);
  const bare = bareHnswSql(scope, dims);
  const ef = DEFAULT_VECTOR_INDEX.kind === 'hnsw' ? DEFAULT_VECTOR_INDEX.efSearch : 40;
  // The session's settings are those docsvc sets in each search's transaction.
  await t.docsvcSql.query(`SET hnsw.ef_search = ${ef}`);
  await t.docsvcSql.query('SET hnsw.iterative_scan = relaxed_order');
  const own = await docsvcVectorSql(t.docsvcSql, scope, COACH, dims, K);
  for (const [name, sql, params] of [
    ['docsvc', own.sql, own.params(vectors[0]!)],
    ['bare', bare, [vectors[0]!]],
  ] as const) {
    const { rows } = await t.docsvcSql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [
      ...params,
    ]);
    plans[`${name} (${own.exact ? 'docsvc chose an exact scan' : 'docsvc chose the index'})`] = rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
  }
  for (const lc of t.langchain) {
    const used = await usesIndex(lc.sql, lc.table, vectors[0]!);
    (figures[`langchain-${lc.name}`] ??= { ms: [], recall: [] }).indexUsed = used;
  }
  const docsvcExact = `(SELECT embedding::vector(${dims}) AS e FROM chunks WHERE is_current) t`;
  for (let i = 0; i < queries.length; i++) {
    const [query, vector] = [queries[i]!, vectors[i]!];
    const timed = i >= warmup;
    const kth = await exactKth(t.docsvcSql, docsvcExact, 'e', vector, K);
    // The order of the peers turns with each query, so no peer always comes right after another.
    const steps: Array<() => Promise<void>> = [
      async () => {
        // What the bare query leaves out and every other search includes: embedding the query.
        const started = performance.now();
        await embedder.embed([query]);
        if (timed) add(figures, 'query-embedding', performance.now() - started);
      },
      async () => {
        const v = await search(t.docsvcBase, query, 'vector', K);
        if (timed) add(figures, 'docsvc-vector', v.ms, recallOf(v.distances, kth, K));
      },
      async () => {
        const h = await search(t.docsvcBase, query, 'hybrid', K);
        if (timed) add(figures, 'docsvc-hybrid', h.ms);
      },
      async () => {
        const x = await search(t.docsvcBase, query, 'text', K);
        if (timed) add(figures, 'docsvc-text', x.ms);
      },
      async () => {
        const started = performance.now();
        const { rows } = await t.docsvcSql.query<{ d: number }>(bare, [vector]);
        const ms = performance.now() - started;
        if (timed)
          add(
            figures,
            'bare-hnsw',
            ms,
            recallOf(
              rows.map((r) => r.d),
              kth,
              K,
            ),
          );
      },
      async () => {
        // docsvc's own vector SQL sent bare: what the service adds is the rest of its time.
        const started = performance.now();
        const { rows } = await t.docsvcSql.query<{ distance: number }>(own.sql, own.params(vector));
        const ms = performance.now() - started;
        if (timed)
          add(
            figures,
            'docsvc-sql',
            ms,
            recallOf(
              rows.map((r) => r.distance),
              kth,
              K,
            ),
          );
      },
      ...t.langchain.map((lc) => async () => {
        const r = await lc.peer.ask<{ ms: number; distances: number[] }>({ cmd: 'search', query, k: K });
        const lcKth = await exactKth(lc.sql, lc.table, 'embedding', vector, K);
        if (timed) add(figures, `langchain-${lc.name}`, r.ms, recallOf(r.distances, lcKth, K));
      }),
    ];
    for (let s = 0; s < steps.length; s++) await steps[(s + i) % steps.length]!();
  }
}
