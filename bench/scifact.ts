/**
 * Search quality on a BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), through the command path:
 * the service is started in-process, every corpus document is uploaded with POST /documents, the chunks
 * projection indexes them, and each test query is asked with POST /search (k = 100) in every mode. A document's
 * rank is that of its best chunk. Prints nDCG@10 and recall@100 per mode (with a bootstrap 95 % interval over
 * the queries), ingest and query timings.
 *
 * --weights 1,2,3… also fuses the `vector` and `text` rankings already fetched offline with the service's own
 * `fuse()` (the same depth, 100, as the service's hybrid) for each text weight, to see how the hybrid depends on it.
 *
 * --proxy N asks N queries of a development set built from the corpus alone instead of the test queries (an
 * inverse cloze task: see bench/beir.ts). The hybrid's default text weight is chosen on this set.
 *
 * --floors 0,0.05,0.1… sweeps the vector floor (SEARCH_MIN_SIMILARITY) offline on the rankings fetched without one
 * (see bench/floors.ts), and counts the off-topic queries of --off-topic (bench/off-topic-queries.txt) left empty.
 * The service then runs without a floor unless SEARCH_MIN_SIMILARITY is set.
 *
 * --dump file.json writes the judged and off-topic rankings with the query's and each text hit's lexemes, for the
 * hybrid gates evaluated offline by bench/gates.ts (the service runs without a floor, as for --floors).
 *
 * Run: npx tsx bench/scifact.ts <beirDir> [--database-url postgres://…] [--concurrency 8] [--limit N]
 *      [--weights 1,2,3] [--proxy 1000]
 *      [--floors 0,0.05,0.1] [--off-topic bench/off-topic-queries.txt] [--dump file.json]
 * (without --database-url: PGlite in a temporary DATA_DIR)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { createApp } from '../src/app/bootstrap.js';
import { SQL_CLIENT, type SqlClient } from '../src/infrastructure/sql/sql-client.js';
import { LOCAL_HYBRID_TEXT_WEIGHT } from '../src/projections/chunks/chunks.config.js';
import { fuse } from '../src/projections/chunks/search.js';
import { readBeir } from './beir.js';
import { bestScores, floorTable, readOffTopic, type Rankings } from './floors.js';
import { dumpGates } from './gates.js';
import { interval, judgeWith, mean } from './metrics.js';
import { arg, benchDatabase, fmt } from './support.js';

const dir = process.argv[2];
if (!dir || dir.startsWith('--'))
  throw new Error('usage: npx tsx bench/scifact.ts <beirDir> [--database-url …]');
const databaseUrl = process.argv.includes('--database-url') ? arg('database-url', '') : undefined;
const concurrency = Number(arg('concurrency', '8'));
const limit = Number(arg('limit', '0'));
const proxy = Number(arg('proxy', '0'));
const weights = arg('weights', '').split(',').filter(Boolean).map(Number);
const floors = arg('floors', '').split(',').filter(Boolean).map(Number);
const dump = arg('dump', '');
const offTopic = floors.length || dump ? readOffTopic(arg('off-topic', 'bench/off-topic-queries.txt')) : [];
// Without a floor in the service, the sweep sees every candidate (cosine similarity is at least -1).
if (floors.length || dump) process.env.SEARCH_MIN_SIMILARITY ??= '-1';
const KEY = 'bench-admin-key-0123456789abcdef';

const { corpus, queries, qrels } = readBeir(dir, { proxy, limit });

const corpusIdsOf = new Map<string, string[]>();
const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-scifact-'));
const db = databaseUrl ? await benchDatabase('postgres', databaseUrl) : undefined;
const app = await createApp(
  loadConfig({
    ...(db ? { DATABASE_URL: db.url! } : { DATA_DIR: dataDir }),
    ADMIN_API_KEY: KEY,
    PORT: '0',
    LOG_LEVEL: 'error',
    QUERY_CACHE_TTL_SECONDS: '0',
    RATE_LIMIT_PER_MINUTE: '1000000',
    SEARCH_WAIT_TIMEOUT_MS: '60000',
    ...Object.fromEntries(
      [
        'EMBEDDINGS_DIMENSIONS',
        'CHUNK_TARGET_TOKENS',
        'CHUNK_OVERLAP_TOKENS',
        'CHUNK_MAX_TOKENS',
        'SEARCH_HYBRID_TEXT_WEIGHT',
        'SEARCH_MIN_SIMILARITY',
      ]
        .filter((k) => process.env[k])
        .map((k) => [k, process.env[k]!]),
    ),
  }),
);
await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
const post = async (path: string, body: unknown) => {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

try {
  const ingestStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < corpus.length) {
        const d = corpus[next++]!;
        const r = await post('/documents', {
          coachId: 'scifact',
          title: d.title?.trim() || d._id,
          content: d.text.trim() || d.title || d._id,
          metadata: { documentType: 'research', tags: [], accessTier: 'free' },
        });
        if (r.status !== 201 && r.status !== 200)
          throw new Error(`upload ${d._id}: ${JSON.stringify(r.body)}`);
        const id = r.body.documentId as string;
        corpusIdsOf.set(id, [...(corpusIdsOf.get(id) ?? []), d._id]);
      }
    }),
  );
  const uploadedMs = performance.now() - ingestStarted;
  // Wait until the chunks projection has reached the store's head (positions compare as (tx, seq), not text).
  for (;;) {
    const r = await post('/search', { coachId: 'scifact', query: 'warm-up', minPosition: await head() });
    if (r.status === 200) break;
    if (r.status !== 503) throw new Error(JSON.stringify(r.body));
  }
  const indexedMs = performance.now() - ingestStarted;
  const chunks = await countChunks();
  console.log(
    `# BEIR evaluation — ${new Date().toISOString()}, ${db ? db.label : 'PGlite (DATA_DIR)'}, ${dir}\n`,
  );
  console.log(
    `ingest: ${corpus.length} documents, ${chunks} chunks; uploads done in ${fmt(uploadedMs / 1000)} s, ` +
      `indexed (chunked + embedded + written) in ${fmt(indexedMs / 1000)} s = ${fmt(chunks / (indexedMs / 1000))} chunks/s end to end\n`,
  );
  console.log('| mode | nDCG@10 (95 % interval) | recall@100 | query p50 | query p95 |');
  console.log('|---|---:|---:|---:|---:|');
  // Chunk rankings of `vector` and `text` per query, for the offline fusion.
  const chunkRankings: Rankings = { vector: new Map(), text: new Map() };
  for (const mode of ['hybrid', 'vector', 'text'] as const) {
    const ndcgs: number[] = [];
    const recalls: number[] = [];
    const times: number[] = [];
    for (const [qid, rels] of qrels) {
      const started = performance.now();
      const r = await post('/search', { coachId: 'scifact', query: queries.get(qid), k: 100, mode });
      times.push(performance.now() - started);
      const hits = r.body.results as Hit[];
      if (mode !== 'hybrid') chunkRankings[mode].set(qid, hits.map(ranked));
      const [ndcg, recall] = judge(
        hits.map((h) => h.documentId),
        rels,
      );
      ndcgs.push(ndcg);
      recalls.push(recall);
    }
    times.sort((a, b) => a - b);
    const n = qrels.size;
    console.log(
      `| ${mode} | ${mean(ndcgs).toFixed(4)} (${interval(ndcgs)}) | ${mean(recalls).toFixed(4)} | ${fmt(times[Math.floor(n / 2)]!)} ms | ${fmt(times[Math.floor(n * 0.95)]!)} ms |`,
    );
  }
  if (weights.length) {
    console.log('\nhybrid fused offline from the vector and text rankings above, by text weight:\n');
    console.log('| text weight | nDCG@10 (95 % interval) | recall@100 |');
    console.log('|---:|---:|---:|');
    const rows = (ids: string[]) => ids.map((id) => ({ id }) as unknown as Parameters<typeof fuse>[0][0][0]);
    const ids = (qid: string, mode: 'vector' | 'text') => chunkRankings[mode].get(qid)!.map((h) => h.id);
    for (const w of weights) {
      const ndcgs: number[] = [];
      const recalls: number[] = [];
      for (const [qid, rels] of qrels) {
        const fused = fuse([rows(ids(qid, 'vector')), rows(ids(qid, 'text'))], 100, [1, w]);
        const [ndcg, recall] = judge(
          fused.map((row) => row.id.split('/')[0]!),
          rels,
        );
        ndcgs.push(ndcg);
        recalls.push(recall);
      }
      console.log(`| ${w} | ${mean(ndcgs).toFixed(4)} (${interval(ndcgs)}) | ${mean(recalls).toFixed(4)} |`);
    }
  }
  const off = offTopic.length ? await askOffTopic() : undefined;
  if (floors.length) sweepFloors(chunkRankings, off!);
  if (dump) {
    const all = new Map([...queries].filter(([qid]) => qrels.has(qid)));
    offTopic.forEach((q, i) => all.set(`off-${i}`, q));
    await dumpGates(dump, sqlOf(), { queries: all, qrels, corpusIdsOf, dev: chunkRankings, off: off! });
    console.log(`\nrankings and lexemes for bench/gates.ts written to ${dump}`);
  }
  console.log(
    proxy > 0
      ? `\n${qrels.size} held-out last sentences as queries (inverse cloze development set, not the test judgments).`
      : `\n${qrels.size} test queries; published nDCG@10 on SciFact: BM25 0.679, BGE-base 0.741.`,
  );
} finally {
  await app.close();
  if (process.argv.includes('--keep') && db) console.log(`kept the database: ${db.url}`);
  else await db?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}

type Hit = { documentId: string; version: number; chunkIndex: number; score: number };

function ranked(h: Hit) {
  return { id: `${h.documentId}/${h.version}/${h.chunkIndex}`, score: h.score };
}

/** The off-topic queries asked (vector and text, k = 100). */
async function askOffTopic(): Promise<Rankings> {
  const off: Rankings = { vector: new Map(), text: new Map() };
  for (const [i, query] of offTopic.entries())
    for (const mode of ['vector', 'text'] as const) {
      const r = await post('/search', { coachId: 'scifact', query, k: 100, mode });
      off[mode].set(`off-${i}`, (r.body.results as Hit[]).map(ranked));
    }
  return off;
}

/** The floor sweep over the judged and off-topic rankings: the table of bench/floors.ts. */
function sweepFloors(dev: Rankings, off: Rankings) {
  const textWeight = Number(process.env.SEARCH_HYBRID_TEXT_WEIGHT ?? LOCAL_HYBRID_TEXT_WEIGHT);
  console.log(
    `\nthe vector floor swept offline (hybrid text weight ${textWeight}), ${offTopic.length} off-topic queries:\n`,
  );
  const judgeChunks = (qid: string, chunkIds: string[]) =>
    judge(
      chunkIds.map((id) => id.split('/')[0]!),
      qrels.get(qid)!,
    );
  const summary = (xs: number[]) => `${mean(xs).toFixed(4)} (${interval(xs)})`;
  console.log(floorTable(floors, { rankings: dev, judge: judgeChunks }, off, textWeight, summary));
  console.log(
    `\nbest vector similarity per query: judged queries ${bestScores(dev)}; off-topic ${bestScores(off)}`,
  );
  const textEmpty = [...off.text.values()].filter((h) => !h.length).length;
  console.log(`off-topic queries with no BM25 match (text mode empty): ${textEmpty} / ${offTopic.length}`);
}

async function head(): Promise<string> {
  const { rows } = await sqlOf().query<{ p: string }>(
    `SELECT transaction_id::text || '.' || global_position::text AS p FROM events
     ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  return rows[0]!.p;
}

async function countChunks(): Promise<number> {
  const { rows } = await sqlOf().query<{ n: number }>(
    'SELECT count(*)::int AS n FROM chunks WHERE is_current',
  );
  return rows[0]!.n;
}

function sqlOf(): SqlClient {
  return app.get<SqlClient>(SQL_CLIENT);
}

/** nDCG@10 and recall@100 of a ranking of documents (service ids, mapped to corpus ids; a document once). */
function judge(documentIds: string[], rels: Map<string, number>): [number, number] {
  return judgeWith(corpusIdsOf, documentIds, rels);
}
