/**
 * Ingest throughput and search speed at 100,000 chunks with the local embedder (issue #4), on PostgreSQL.
 *
 * 1. Ingest: synthetic sports-nutrition Markdown documents (Zipf-distributed words in topics, headings,
 *    2,000–8,000 tokens) go through POST /documents to the service started in-process, and its chunks projection
 *    indexes them. Timed: the uploads; first upload → projection caught up (end to end); the projection's
 *    prepare and apply (wrapped); the chunker and the embedder alone on the same texts.
 * 2. Latency of ChunkSearch (in-process, on the service's pg pool) per mode × tag filter.
 * 3. recall@10 of the vector search against exact search (index scans off), and the index in its plan; and the
 *    recall of the vector index's own path (as if no filter were narrow enough for an exact search).
 * 4. Overhead of ChunkSearch.vector over the same query as plain SQL (the same result columns, the same access
 *    path, each distance computed once), and over a bare query that returns only the ids.
 * Run: npx tsx bench/search-speed.ts --database-url postgres://… [--chunks 100000] [--queries 200] [--concurrency 6]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { markdownSections } from '../src/commands/documents/snapshot.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { LocalEmbedder } from '../src/infrastructure/embeddings/local-embedder.js';
import { comparePositions, parsePosition } from '../src/infrastructure/event-store/position.js';
import { createApp } from '../src/app/bootstrap.js';
import { ProjectionEngine } from '../src/infrastructure/projections/projection-engine.js';
import { SQL_CLIENT, type SqlClient, type SqlExecutor } from '../src/infrastructure/sql/sql-client.js';
import { chunkText } from '../src/projections/chunks/chunker.js';
import { embeddingText } from '../src/projections/chunks/chunk-preparation.js';
import { vectorText } from '../src/infrastructure/sql/vector-array.js';
import { ChunkSearch, EXACT_SEARCH_MAX } from '../src/projections/chunks/search.js';
import { CHUNK_SEARCHES, type ServedVersion } from '../src/projections/chunks/search.query.js';
import type { SearchRequest } from '../src/projections/chunks/search.schema.js';
import { literal, vectorSearchSettings } from '../src/projections/chunks/vector-index.js';
import type { AsyncProjection } from '../src/infrastructure/projections/projection.js';
import { makeDoc, phrase, pick, rand, TOPICS, type Doc } from './corpus.js';
import { arg, benchDatabase, fmt } from './support.js';

const databaseUrl = arg('database-url', 'postgres://postgres@127.0.0.1:5432/test');
const total = Number(arg('chunks', '100000'));
const queryCount = Number(arg('queries', '200'));
const concurrency = Number(arg('concurrency', '6'));
const OTHER_COACHES = ['coach-b', 'coach-c', 'coach-d']; // ~1,000 chunks each
const KEY = 'bench-admin-key-0123456789abcdef';
const note = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

const chunksOf = (d: Doc) => chunkText({ content: d.content, sections: markdownSections(d.content) });

// ---- the service, the ingest ----------------------------------------------------------------------------------
const db = await benchDatabase('postgres', databaseUrl);
const env = { DATABASE_URL: db.url!, ADMIN_API_KEY: KEY, PORT: '0', LOG_LEVEL: 'error' };
const app = await createApp(
  loadConfig({ ...env, RATE_LIMIT_PER_MINUTE: '1000000', QUERY_CACHE_TTL_SECONDS: '0' }),
);
await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
const sql = app.get<SqlClient>(SQL_CLIENT);
const [own] = app.get<ServedVersion[]>(CHUNK_SEARCHES);
const search: ChunkSearch = own!.search;
const projection: AsyncProjection = own!.projection;
const { space, chunker, dimensions } = search.scope;
const embedder = new LocalEmbedder({ dimensions });
const started = performance.now();
const since = (from: number) => (performance.now() - from) / 1000;

/** CPU seconds so far: of the whole machine (every process, /proc/stat), and of this Node process. */
function cpuNow() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait (in USER_HZ, 100 a second).
  const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0) / 100;
  const own = process.cpuUsage();
  return { at: performance.now(), machine: busy, node: (own.user + own.system) / 1e6 };
}

/**
 * The CPU each phase of the ingest used, and the fastest the ingest could be with that much work on this
 * machine's cores (every core busy all the time).
 */
function cpuTable(points: Array<ReturnType<typeof cpuNow>>, chunks: number) {
  const cores = availableParallelism();
  const phases = ['uploads (server, client, projector)', 'projection catching up', 'vector index builds'];
  const row = (label: string, a: (typeof points)[0], b: (typeof points)[0]) => {
    const wall = (b.at - a.at) / 1000;
    const busy = b.machine - a.machine;
    return [
      label,
      `${wall.toFixed(1)} s`,
      `${busy.toFixed(1)} s`,
      `${Math.round((100 * busy) / (wall * cores))} %`,
      `${(b.node - a.node).toFixed(1)} s`,
    ];
  };
  console.log(
    `\nCPU of the ingest (the whole machine from /proc/stat, ${cores} cores; and of this Node process):\n`,
  );
  table(
    ['phase', 'wall', 'CPU, machine', 'of all cores', 'CPU, Node'],
    [
      ...phases.map((p, i) => row(p, points[i]!, points[i + 1]!)),
      row('**ingest**', points[0]!, points.at(-1)!),
    ],
  );
  const total = points.at(-1)!.machine - points[0]!.machine;
  console.log(
    `\nWith ${total.toFixed(0)} CPU seconds of work on ${cores} cores the ingest takes at least ${(total / cores).toFixed(0)} s: ` +
      `at most ${fmt(chunks / (total / cores))} chunks/s end to end, however well its phases overlapped.`,
  );
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
const clock = async <R>(into: number[], f: () => Promise<R>): Promise<R> => {
  const t = performance.now();
  return f().finally(() => into.push(performance.now() - t));
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const count = async (where: string) =>
  (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM chunks WHERE is_current AND ${where}`))
    .rows[0]!.n;
type Row = Array<string | number>;
function table(head: string[], body: Row[], left = [0]) {
  const line = (cells: Row) => `| ${cells.join(' | ')} |`;
  const rule = head.map((_, i) => (left.includes(i) ? '---' : '---:'));
  console.log([line(head), line(rule), ...body.map(line)].join('\n'));
}

try {
  // The projector's own work, timed by wrapping the projection object that the service runs.
  const spent = { prepare: 0, apply: 0, idle: 0 };
  for (const key of ['prepare', 'apply', 'idle'] as const) {
    const f = projection[key]!.bind(projection) as (...a: unknown[]) => Promise<never>;
    const timed = (...a: unknown[]) =>
      ((t) => f(...a).finally(() => (spent[key] += since(t))))(performance.now());
    (projection as unknown as Record<string, unknown>)[key] = timed;
  }

  // 1. The corpus, chunked (timed) as it is generated and embedded (timed); then uploaded and projected.
  const [docs, texts]: [Doc[], string[]] = [[], []];
  let chunkerS = 0;
  for (const [coach, want] of [['main', total] as const, ...OTHER_COACHES.map((c) => [c, 1_000] as const)])
    for (const end = texts.length + want; texts.length < end;) {
      const d = makeDoc(coach);
      const t = performance.now();
      texts.push(...chunksOf(d).map((c) => embeddingText(d.title, c)));
      chunkerS += since(t);
      docs.push(d);
    }
  docs.sort(() => rand() - 0.5);
  const embedStart = performance.now();
  for (let i = 0; i < texts.length; i += 256) await embedder.embed(texts.slice(i, i + 256));
  const embedS = since(embedStart);
  note(`uploading ${docs.length} documents (${texts.length} chunks), ${concurrency} at a time`);
  const ingestStart = performance.now();
  const cpu = [cpuNow()];
  // How long the event loop (HTTP server, client and projector share it here) was blocked at a time.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let [next, last] = [0, '0.0'];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let d = docs[next++]; d; d = docs[next++]) {
        const res = await fetch(`${base}/documents`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...d, format: 'markdown' }),
        });
        if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
        const { position } = (await res.json()) as { position: string };
        if (comparePositions(parsePosition(position), parsePosition(last)) > 0) last = position;
      }
    }),
  );
  const uploadS = since(ingestStart);
  cpu.push(cpuNow());
  note('uploaded; waiting for the chunks projection');
  // The last upload's position, not the store's head: the head trails any open transaction's xmin.
  if (!(await app.get(ProjectionEngine).waitUntilCaughtUp({ position: last, timeoutMs: 7_200_000 })))
    throw new Error('the chunks projection did not catch up');
  const caughtUpS = since(ingestStart);
  cpu.push(cpuNow());
  // A bulk load drops the vector index and the projector builds it again once caught up (until then vector
  // search is exact): the ingest is done when the index is there.
  // Both of the configuration's vector indexes: current chunks, and past ones (built second).
  const indexed = async () =>
    (
      await sql.query(
        `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relname LIKE 'chunks_vec_%' AND i.indisvalid AND i.indisready`,
      )
    ).rows.length === 2;
  while (!(await indexed())) await new Promise((r) => setTimeout(r, 100));
  const endToEndS = since(ingestStart);
  cpu.push(cpuNow());
  loopDelay.disable();
  const [written, mb] = [await count('true'), docs.reduce((s, d) => s + d.content.length, 0) / 1e6];
  await sql.exec('VACUUM ANALYZE');

  const { v } = (
    await sql.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`)
  ).rows[0]!;
  console.log(`# search speed — ${new Date().toISOString()}, ${db.label}, pgvector ${v}, 2 cores\n`);
  console.log(`Command: \`npx tsx bench/search-speed.ts ${process.argv.slice(2).join(' ')}\`\n`);
  console.log(`## Ingest: POST /documents → chunks projection (${space}, ${chunker})\n`);
  const stages: Array<[string, string, number, number]> = [
    ['chunker alone (in-process, 1 thread)', fmt(texts.length), chunkerS, texts.length],
    ['embedder alone (in-process, 1 thread)', fmt(texts.length), embedS, texts.length],
    [`uploads: ${docs.length} documents, ${(mb / uploadS).toFixed(1)} MB/s`, '', uploadS, written],
    ['first upload → projection caught up (chunks searchable)', fmt(written), caughtUpS, written],
    ['**end to end: first upload → caught up and vector index built**', fmt(written), endToEndS, written],
    ['… projection prepare (read, decrypt, chunk, embed)', '', spent.prepare, written],
    ['… projection apply (INSERT: vector index unless bulk, GIN, BM25 trigger)', '', spent.apply, written],
    ['… vector index builds (when caught up after a bulk load)', '', spent.idle, written],
  ];
  const rows = stages.map(([stage, chunks, s, c]) => [stage, chunks, `${s.toFixed(1)} s`, fmt(c / s)]);
  table(['stage', 'chunks', 'time', 'chunks/s'], rows);
  cpuTable(cpu, written);
  const [p99, max] = [loopDelay.percentile(99), loopDelay.max].map((ns) => ms(ns / 1e6));
  console.log(
    `\nEvent loop delay during the ingest (server, client and projector in one process): p99 ${p99}, max ${max}`,
  );
  const [main, others] = [await count(`coach_id = 'main'`), await count(`coach_id <> 'main'`)];
  const tagged = (t: string) => count(`coach_id = 'main' AND tags && ARRAY['${t}']`);
  const [ten, one] = [await tagged('ten'), await tagged('one')];
  console.log(
    `\nCorpus: ${fmt(main)} current chunks in coach \`main\` (tag \`ten\` on ${fmt(ten)}, \`one\` on ${fmt(one)}), ` +
      `${fmt(others)} in ${OTHER_COACHES.length} other coaches; then VACUUM ANALYZE.\n`,
  );

  // 2. Latency per mode × filter (with the query's embedding, as POST /search does).
  const queries = Array.from({ length: queryCount }, () => phrase(pick(TOPICS), 3 + Math.floor(rand() * 8)));
  const vectors = await embedder.embed(queries);
  const FILTERS = [['none'], ['tags [ten]', 'ten'], ['tags [one]', 'one']] as const;
  const MODES = ['hybrid', 'vector', 'text'] as const;
  const request = (query: string, mode: SearchRequest['mode'], tag?: string): SearchRequest => ({
    ...{ coachId: 'main', query, k: 10, mode },
    ...(tag ? { filters: { tags: [tag] } } : {}),
  });
  for (const q of queries.slice(0, 20))
    for (const mode of MODES) await search.search(request(q, mode), false);
  const latency: Row[] = [];
  for (const mode of MODES)
    for (const [label, tag] of FILTERS) {
      note(`search ${mode}, ${label}`);
      const [times, hits] = [[] as number[], [] as number[]];
      for (const q of queries)
        hits.push((await clock(times, () => search.search(request(q, mode, tag), false))).length);
      latency.push([mode, label, ms(pct(times, 0.5)), ms(pct(times, 0.95)), pct(hits, 0.5)]);
    }
  console.log(`## Search latency: ChunkSearch in-process, k = 10, ${queryCount} queries of 3–10 words\n`);
  table(['mode', 'filter', 'p50', 'p95', 'median hits'], latency, [0, 1]);

  // 3 + 4. Recall against exact search, the plans, and the overhead over the bare query.
  const inTx = <R>(settings: readonly string[], f: (tx: SqlExecutor) => Promise<R>) =>
    sql.transaction(async (tx) => {
      for (const s of settings) await tx.exec(s);
      return f(tx);
    });
  const hnsw = vectorSearchSettings(search.scope.index);
  const noIndex = ['SET LOCAL enable_indexscan = off', 'SET LOCAL enable_bitmapscan = off'];
  // A statement's rows become its EXPLAIN ANALYZE lines: the plan's scans and the execution time.
  const explaining = (tx: SqlExecutor): SqlExecutor => ({
    ...tx,
    // (ChunkSearch's own planner questions, EXPLAIN already, go through as they are.)
    query: (text, params) => tx.query(text.startsWith('EXPLAIN') ? text : `EXPLAIN ANALYZE ${text}`, params),
  });
  const summary = (rows: unknown[]) => {
    const plan = rows
      .map((r) => (r as { 'QUERY PLAN': string })['QUERY PLAN'])
      .filter((line) => !line.includes('(never executed)'))
      .join('\n');
    const scans = plan.match(/(Index Scan using \S+|Bitmap Index Scan on \S+|Seq Scan)/g) ?? [];
    return [[...new Set(scans)].join(', '), ms(Number(/Execution Time: ([\d.]+)/.exec(plan)?.[1]))];
  };
  const bareParams = (i: number, tag?: string) => [vectorText(vectors[i]!), 'main', ...(tag ? [[tag]] : [])];
  // The index's own path whatever the filter leaves (no exact search below EXACT_SEARCH_MAX).
  const indexOnly = new ChunkSearch(sql, embedder, { ...search.scope, exactSearchMax: -1 });
  // The share of the exact nearest that a search found.
  const share = (exact: Array<{ id: string }>, got: Array<{ id: string }>) => {
    const found = new Set(got.map((r) => r.id));
    return exact.length ? exact.filter((r) => found.has(r.id)).length / exact.length : 1;
  };
  const [recalls, overheads]: [Row[], Row[]] = [[], []];
  for (const [label, tag] of FILTERS) {
    note(`recall and overhead, ${label}`);
    // The same plan as ChunkSearch's: exact when the filter leaves at most EXACT_SEARCH_MAX chunks, else the index.
    const scoped = `c.coach_id = 'main' AND c.space = ${literal(space)} AND c.chunker = ${literal(chunker)}`;
    const few =
      (await count(`${scoped.replace(/c\./g, '')} ${tag ? `AND tags && '{${tag}}'` : ''}`)) <=
      EXACT_SEARCH_MAX;
    const distance = `c.embedding::vector(${dimensions}) <=> $1::vector(${dimensions})`;
    const scope = `c.space = ${literal(space)} AND c.chunker = ${literal(chunker)}
      AND c.coach_id = $2 AND c.is_current ${tag ? 'AND c.tags && $3::text[]' : ''}`;
    const bare = `SELECT c.id FROM chunks c WHERE ${scope}
      ORDER BY ${few ? `(${distance}) + 0` : distance} LIMIT 10`;
    // What ChunkSearch returns (its COLUMNS), written plainly: on the exact path each distance is computed once
    // in a subquery that the sort cannot turn into an index scan; on the index path the index orders.
    const columns = `c.id::text AS id, c.document_id::text AS document_id, c.title, c.version, c.chunk_index,
      c.content, c.start_char, c.end_char, c.section, c.page, c.metadata`;
    const same = few
      ? `SELECT *, 1 - distance AS score FROM (SELECT ${columns}, ${distance} AS distance FROM chunks c
          WHERE ${scope} OFFSET 0) d ORDER BY distance LIMIT 10`
      : `SELECT ${columns}, ${distance} AS distance, 1 - (${distance}) AS score FROM chunks c WHERE ${scope}
          ORDER BY ${distance} LIMIT 10`;
    const [ours, plain, ids, exactTimes]: [number[], number[], number[], number[]] = [[], [], [], []];
    let [recall, indexRecall] = [0, 0];
    for (const [i, q] of queries.entries()) {
      const [req, params] = [request(q, 'vector', tag), bareParams(i, tag)];
      // Rotate which goes first, so that none always finds the pages another just read.
      const runs = [
        () => clock(ours, () => search.vector(req, false, vectors[i]!, 10)),
        () =>
          clock(plain, () => inTx(hnsw, (tx) => tx.query<{ id: string }>(same, params)).then((r) => r.rows)),
        () =>
          clock(ids, () => inTx(hnsw, (tx) => tx.query<{ id: string }>(bare, params)).then((r) => r.rows)),
      ];
      let approx: Array<{ id: string }> = [];
      for (let r = 0; r < runs.length; r++) {
        const k = (r + i) % runs.length;
        const got = await runs[k]!();
        if (k === 0) approx = got;
      }
      const exact = await clock(exactTimes, () =>
        inTx(noIndex, (tx) => search.vector(req, false, vectors[i]!, 10, tx)),
      );
      recall += share(exact, approx);
      indexRecall += share(exact, await indexOnly.vector(req, false, vectors[i]!, 10));
    }
    const [first, p0] = [request(queries[0]!, 'vector', tag), bareParams(0, tag)];
    const ourPlan = summary(
      await sql.transaction((tx) => search.vector(first, false, vectors[0]!, 10, explaining(tx))),
    );
    const barePlan = summary((await inTx(hnsw, (tx) => tx.query(`EXPLAIN ANALYZE ${bare}`, p0))).rows);
    recalls.push([
      label,
      (recall / queries.length).toFixed(3),
      (indexRecall / queries.length).toFixed(3),
      ...ourPlan,
      ms(pct(exactTimes, 0.5)),
    ]);
    const [a, b, c] = [pct(ours, 0.5), pct(plain, 0.5), pct(ids, 0.5)];
    const over = (x: number) => `${(((a - x) / x) * 100).toFixed(0)} %`;
    overheads.push([label, ms(a), ms(b), over(b), ms(c), over(c), ...barePlan]);
  }
  console.log(`\n## Vector search: recall@10 against exact search (index and bitmap scans off)\n`);
  table(
    ['filter', 'recall@10', 'index path alone', 'plan (EXPLAIN ANALYZE, 1st query)', 'its time', 'exact p50'],
    recalls,
    [0, 3],
  );
  console.log(
    `\n## Overhead of ChunkSearch.vector over the same query as plain SQL, and over ids only (same filters, SET LOCALs, pool)\n`,
  );
  table(
    [
      'filter',
      'ChunkSearch.vector p50',
      'plain SQL p50',
      'overhead',
      'ids-only SQL p50',
      'overhead',
      'ids-only plan',
      'its time',
    ],
    overheads,
    [0, 6],
  );
  const targets = 'Targets: ≥ 1,000 chunks/s end to end; recall@10 ≥ 0.95; overhead ≤ 20 %.';
  console.log(`\n${targets} Whole run: ${fmt(since(started))} s.`);
} finally {
  await app.close();
  await db.dispose();
}
