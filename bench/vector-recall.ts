/**
 * recall@10 of the approximate vector search against exact search, per vector index configuration and
 * hnsw.ef_search, on chunks already in a database (e.g. one left by `bench/search-speed.ts --keep`).
 * It drops the chunks' vector indexes and builds its own, one configuration at a time: use a throw-away database.
 *
 * Also reports how often the 10th and 11th exact neighbours are nearly tied (a result swapped for an equally
 * near one counts as a miss by id), and recall counted by distance as ann-benchmarks does: a returned chunk
 * counts if it is no farther than the 10th exact neighbour (+ 1e-6).
 * Run: npx tsx bench/vector-recall.ts --database-url postgres://…/docsvc_bench_… [--queries 60]
 *      [--configs 16:64,32:128] [--ef 100,200,400] [--memory-mb 1024] [--halfvec]
 */
import pg from 'pg';
import { LocalEmbedder } from '../src/infrastructure/embeddings/local-embedder.js';
import { vectorText } from '../src/infrastructure/sql/vector-array.js';
import { phrase, pick, rand, TOPICS } from './corpus.js';
import { arg } from './support.js';

const client = new pg.Client({ connectionString: arg('database-url', '') });
await client.connect();
const queryCount = Number(arg('queries', '60'));
// m:ef_construction for HNSW, or ivf:lists for IVFFlat (then --ef lists the probes).
const configs = arg('configs', '16:64')
  .split(',')
  .map((c) => c.split(':') as [string, string]);
const efs = arg('ef', '40,100,200,400').split(',').map(Number);
const memoryMb = Number(arg('memory-mb', '1024'));
const half = process.argv.includes('--halfvec');
const coach = arg('coach', 'main');

const { rows: scope } = await client.query<{ space: string; chunker: string; dims: number }>(
  `SELECT space, chunker, vector_dims(embedding) AS dims FROM chunks WHERE coach_id = $1 AND is_current LIMIT 1`,
  [coach],
);
const { space, chunker, dims } = scope[0]!;
const type = half ? `halfvec(${dims})` : `vector(${dims})`;
const where = `is_current AND space = '${space}' AND chunker = '${chunker}'`;
const distance = `embedding::${type} <=> $1::${type}`;
const knn = (limit: number) =>
  `SELECT id, ${distance} AS d FROM chunks WHERE ${where} AND coach_id = $2 ORDER BY ${distance} LIMIT ${limit}`;
const embedder = new LocalEmbedder({ dimensions: dims });
const queries = Array.from({ length: queryCount }, () => phrase(pick(TOPICS), 3 + Math.floor(rand() * 8)));
const vectors = (await embedder.embed(queries)).map(vectorText);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;

async function dropIndexes() {
  const { rows } = await client.query<{ n: string }>(
    `SELECT indexname AS n FROM pg_indexes WHERE tablename = 'chunks' AND indexdef ~* 'USING (hnsw|ivfflat)'`,
  );
  for (const { n } of rows) await client.query(`DROP INDEX ${n}`);
}

await dropIndexes();
// Exact neighbours (no index): the top 10 and the 11th, for the near-tie count.
await client.query('SET enable_indexscan = off');
await client.query('SET enable_bitmapscan = off');
const exact: Array<Array<{ id: string; d: number }>> = [];
for (const v of vectors) exact.push((await client.query(knn(11), [v, coach])).rows);
await client.query('RESET enable_indexscan');
await client.query('RESET enable_bitmapscan');
// This measures the index: where the planner would rather scan the table (a narrow table, a large m), it must not.
await client.query('SET enable_seqscan = off');
const ties = exact.filter((e) => e.length > 10 && e[10]!.d - e[9]!.d < 1e-4).length;
console.log(
  `# vector recall — ${new Date().toISOString()}; ${space}, ${type}; ${queryCount} queries of 3–10 words\n`,
);
console.log(`Command: \`npx tsx bench/vector-recall.ts ${process.argv.slice(2).join(' ')}\`\n`);
console.log(`10th and 11th exact neighbours within 1e-4 of each other: ${ties} of ${queryCount} queries\n`);
console.log('| index | build | ef_search (probes) | recall@10 (ids) | recall@10 (distance) | p50 |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [m, efc] of configs) {
  await client.query(`SET maintenance_work_mem = '${memoryMb}MB'`);
  const t = performance.now();
  const ivf = m === 'ivf';
  const [method, options] = ivf
    ? ['ivfflat', `lists = ${efc}`]
    : ['hnsw', `m = ${m}, ef_construction = ${efc}`];
  const label = ivf ? `ivfflat lists ${efc}` : `hnsw m ${m}, ef_construction ${efc}`;
  await client.query(
    `CREATE INDEX recall_probe ON chunks USING ${method} ((embedding::${type}) ${half ? 'halfvec' : 'vector'}_cosine_ops)
     WITH (${options}) WHERE ${where}`,
  );
  const build = ((performance.now() - t) / 1000).toFixed(1);
  await client.query('ANALYZE chunks');
  for (const ef of efs) {
    await client.query(ivf ? `SET ivfflat.probes = ${ef}` : `SET hnsw.ef_search = ${ef}`);
    let [byId, byDistance] = [0, 0];
    const times: number[] = [];
    for (const [i, v] of vectors.entries()) {
      const t0 = performance.now();
      const got = (await client.query<{ id: string; d: number }>(knn(10), [v, coach])).rows;
      times.push(performance.now() - t0);
      const truth = exact[i]!.slice(0, 10);
      const ids = new Set(truth.map((r) => r.id));
      const limit = truth[truth.length - 1]!.d + 1e-6;
      byId += got.filter((r) => ids.has(r.id)).length / truth.length;
      byDistance += Math.min(truth.length, got.filter((r) => r.d <= limit).length) / truth.length;
    }
    const [a, b] = [(byId / queryCount).toFixed(3), (byDistance / queryCount).toFixed(3)];
    console.log(`| ${label} | ${build} s | ${ef} | ${a} | ${b} | ${pct(times, 0.5).toFixed(1)} ms |`);
  }
  await client.query('DROP INDEX recall_probe');
}
await client.end();
