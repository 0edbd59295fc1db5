/**
 * Search quality on a BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), through the command path:
 * the service is started in-process, every corpus document is uploaded with POST /documents, the chunks
 * projection indexes them, and each test query is asked with POST /search (k = 100) in every mode. A document's
 * rank is that of its best chunk. Prints nDCG@10 and recall@100 per mode, ingest and query timings.
 * Run: npx tsx bench/scifact.ts <beirDir> [--database-url postgres://…] [--concurrency 8] [--limit N]
 * (without --database-url: PGlite in a temporary DATA_DIR)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { createApp } from '../src/infrastructure/http/bootstrap.js';
import { SQL_CLIENT, type SqlClient } from '../src/infrastructure/sql/sql-client.js';
import { arg, benchDatabase, fmt } from './support.js';

const dir = process.argv[2];
if (!dir || dir.startsWith('--'))
  throw new Error('usage: npx tsx bench/scifact.ts <beirDir> [--database-url …]');
const databaseUrl = process.argv.includes('--database-url') ? arg('database-url', '') : undefined;
const concurrency = Number(arg('concurrency', '8'));
const limit = Number(arg('limit', '0'));
const KEY = 'bench-admin-key-0123456789abcdef';

const readJsonl = (file: string) =>
  readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { _id: string; title?: string; text: string });
let corpus = readJsonl('corpus.jsonl');
if (limit > 0) corpus = corpus.slice(0, limit);
const queries = new Map(readJsonl('queries.jsonl').map((q) => [q._id, q.text]));
const qrels = new Map<string, Map<string, number>>();
for (const line of readFileSync(join(dir, 'qrels/test.tsv'), 'utf8').split('\n').slice(1)) {
  const [q, d, s] = line.split('\t');
  if (!q || !d) continue;
  if (!qrels.has(q)) qrels.set(q, new Map());
  qrels.get(q)!.set(d, Number(s));
}

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
  const corpusIdsOf = new Map<string, string[]>();
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
  console.log('| mode | nDCG@10 | recall@100 | query p50 | query p95 |');
  console.log('|---|---:|---:|---:|---:|');
  for (const mode of ['hybrid', 'vector', 'text'] as const) {
    let ndcg = 0;
    let recall = 0;
    const times: number[] = [];
    for (const [qid, rels] of qrels) {
      const started = performance.now();
      const r = await post('/search', { coachId: 'scifact', query: queries.get(qid), k: 100, mode });
      times.push(performance.now() - started);
      const ranked: string[] = [];
      for (const hit of r.body.results as Array<{ documentId: string }>) {
        for (const cid of corpusIdsOf.get(hit.documentId) ?? []) if (!ranked.includes(cid)) ranked.push(cid);
      }
      ndcg += ndcgAt(ranked, rels, 10);
      recall += [...rels.keys()].filter((d) => ranked.slice(0, 100).includes(d)).length / rels.size;
    }
    times.sort((a, b) => a - b);
    const n = qrels.size;
    console.log(
      `| ${mode} | ${(ndcg / n).toFixed(4)} | ${(recall / n).toFixed(4)} | ${fmt(times[Math.floor(n / 2)]!)} ms | ${fmt(times[Math.floor(n * 0.95)]!)} ms |`,
    );
  }
  console.log(`\n${qrels.size} test queries; published nDCG@10 on SciFact: BM25 0.679, BGE-base 0.741.`);
} finally {
  await app.close();
  if (process.argv.includes('--keep') && db) console.log(`kept the database: ${db.url}`);
  else await db?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
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

function ndcgAt(ranked: string[], rels: Map<string, number>, k: number): number {
  const dcg = ranked
    .slice(0, k)
    .reduce((s, d, i) => s + ((rels.get(d) ?? 0) > 0 ? (2 ** rels.get(d)! - 1) / Math.log2(i + 2) : 0), 0);
  const ideal = [...rels.values()].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((s, r, i) => s + (2 ** r - 1) / Math.log2(i + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}
