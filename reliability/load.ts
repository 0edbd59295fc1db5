/**
 * Load (issue 17, RELIABILITY.md): the built service on a fresh PostgreSQL database holding ~`--chunks` chunks,
 * 1. `autocannon` against `POST /search`, `--connections` at once for `--seconds`, each request a different
 *    realistic body (2–6 words of a topic, hybrid / vector / text, k 5–20, a filter on a third of them), as a
 *    premium or a free reader: p50, p99, requests/s, errors, non-2xx (the target is 0 and 0);
 * 2. mixed load for `--mixed-seconds`: uploads, edits with If-Match and searches, `--mixed-concurrency` at once,
 *    every acknowledged write recorded; then, once the projectors have caught up, every one is checked in the
 *    database itself (reliability/support/verify-writes.ts `verifyWrites`): in the event log exactly once, the documents read
 *    model at the last acknowledged version, the current chunks not duplicated.
 *
 * The corpus: bench/corpus.ts's synthetic Markdown (documents of 2,000–8,000 tokens, ~30 chunks each), counted in
 * chunks with the service's own chunker as the import stores it (format text), loaded through `POST /imports/csv` (500 documents a transaction), the
 * fastest path the service has (bench/backup.ts loads its 100,000 chunks so). The service runs with
 * RATE_LIMIT_PER_MINUTE raised (the default 1,200 a key would answer most of the load with 429, as it should).
 *
 * Run: npm run build && npx tsx reliability/load.ts [--chunks 100000] [--connections 32] [--seconds 60]
 *      [--mixed-seconds 60] [--mixed-concurrency 16] [--database-url postgres://postgres@127.0.0.1:5432/test]
 * Prints `RESULT {json}` on stdout; exits 1 when a search failed or answered non-2xx, or a write was lost or
 * duplicated.
 */
import autocannon from 'autocannon';
import { makeDoc, type Doc } from '../bench/corpus.js';
import { corpusCsvParts, importCorpusCsv } from '../bench/corpus-csv.js';
import { arg, benchDatabase, fmt } from '../bench/support.js';
import { chunkText } from '../src/projections/chunks/chunker.js';
import { rssMb } from './support/memory.js';
import { mixedLoad } from './support/mixed-load.js';
import { note, percentile, round } from './support/report.js';
import { caughtUp, startBuiltService, stopService } from './support/service.js';
import { verified, verifyWrites } from './support/verify-writes.js';
import { LOAD_KEYS, loadApiKeys, searchBody } from './support/workload.js';

const target = Number(arg('chunks', '100000'));
const connections = Number(arg('connections', '32'));
const seconds = Number(arg('seconds', '60'));
const mixedSeconds = Number(arg('mixed-seconds', '60'));
const mixedConcurrency = Number(arg('mixed-concurrency', '16'));
const serverUrl = arg(
  'database-url',
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);
const COACH = 'main';

async function seed(base: string): Promise<{ documents: number; chunks: number; seconds: number }> {
  const started = Date.now();
  const corpus: Doc[] = [];
  let chunks = 0;
  while (chunks < target) {
    const d = makeDoc(COACH);
    // As the CSV import stores it: format "text", no sections (counted with its Markdown sections it is ~5 % more).
    chunks += chunkText({ content: d.content }).length;
    corpus.push(d);
  }
  note(`seeding ${fmt(corpus.length)} documents, ${fmt(chunks)} chunks, through POST /imports/csv`);
  await importCorpusCsv(base, LOAD_KEYS.admin, corpusCsvParts(corpus, 'load'), note);
  return { documents: corpus.length, chunks, seconds: (Date.now() - started) / 1000 };
}

async function searchLoad(base: string) {
  const bodies = Array.from({ length: 5000 }, () => JSON.stringify(searchBody(COACH)));
  const keys = [LOAD_KEYS.premium, LOAD_KEYS.free];
  let i = 0;
  note(`autocannon: POST /search, ${connections} connections, ${seconds} s`);
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/search',
        setupRequest: (request) => {
          const n = i++;
          return {
            ...request,
            body: bodies[n % bodies.length],
            headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[n % 2]}` },
          };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]),
    ),
  };
}

const db = await benchDatabase('postgres', serverUrl);
try {
  const { child, base } = await startBuiltService({
    DATABASE_URL: db.url!,
    API_KEYS: loadApiKeys([COACH]),
    EMBEDDINGS_PROVIDER: 'local',
    RATE_LIMIT_PER_MINUTE: '1000000',
    MAX_UPLOAD_BYTES: String(60 * 1024 * 1024),
  });
  try {
    const seedStarted = Date.now();
    const seeded = await seed(base);
    const deadLettersSeeded = await caughtUp(base, LOAD_KEYS.admin);
    const projectedSeconds = (Date.now() - seedStarted) / 1000;
    const current = (
      await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE is_current')
    ).rows[0]!.n;
    note(`seeded and projected in ${Math.round(projectedSeconds)} s: ${fmt(current)} current chunks`);
    await db.client.exec('VACUUM ANALYZE');

    const search = await searchLoad(base);
    note(`search: ${JSON.stringify(search)}`);

    note(`mixed load: ${mixedConcurrency} at once, ${mixedSeconds} s`);
    const mixed = await mixedLoad({
      base,
      coachId: COACH,
      editorKey: LOAD_KEYS.editor,
      searchKeys: [LOAD_KEYS.premium, LOAD_KEYS.free],
      concurrency: mixedConcurrency,
      until: Date.now() + mixedSeconds * 1000,
    });
    const rss = rssMb(child.pid!);
    note(`mixed load done: ${mixed.acks.length} acknowledged writes, ${mixed.failures.length} failures`);
    const deadLetters = (await caughtUp(base, LOAD_KEYS.admin)) - deadLettersSeeded;
    const v = await verifyWrites(db.client, mixed.acks, mixed.uncertain, {
      coachId: COACH,
      startedAt: mixed.startedAt,
      uncertainUploads: mixed.uncertainUploads,
    });
    for (const d of v.details) note(d);
    for (const f of mixed.failures.slice(0, 10)) note(`failure: ${JSON.stringify(f)}`);
    const figures = {
      database: db.label,
      seeded: {
        ...seeded,
        seconds: round(seeded.seconds),
        toSearchableAndIndexedSeconds: round(projectedSeconds),
        currentChunks: current,
        deadLetters: deadLettersSeeded,
      },
      search,
      mixed: {
        seconds: round(mixed.seconds),
        concurrency: mixedConcurrency,
        acknowledgedWrites: v.acknowledged,
        uploads: v.uploads,
        edits: v.edits,
        lost: v.lost,
        duplicated: v.duplicated,
        unacknowledgedUploads: v.unacknowledgedUploads,
        readModelWrong: v.readModelWrong,
        duplicateChunks: v.duplicateChunks,
        chunksWrong: v.chunksWrong,
        uncertain: mixed.uncertain.length,
        uncertainUploads: mixed.uncertainUploads,
        failures: mixed.failures.length,
        failuresByStatus: mixed.failures.reduce<Record<string, number>>(
          (m, f) => ({ ...m, [`${f.op} ${f.status}`]: (m[`${f.op} ${f.status}`] ?? 0) + 1 }),
          {},
        ),
        deadLetters,
        writesPerSecond: round(v.acknowledged / mixed.seconds),
        writeP50Ms: round(percentile(mixed.writeLatencies, 50)),
        writeP99Ms: round(percentile(mixed.writeLatencies, 99)),
        searches: mixed.searches,
        searchesPerSecond: round(mixed.searches / mixed.seconds),
        searchP50Ms: round(percentile(mixed.searchLatencies, 50)),
        searchP99Ms: round(percentile(mixed.searchLatencies, 99)),
        serviceRssMb: Math.round(rss),
      },
    };
    const ok =
      search.errors === 0 &&
      search.non2xx === 0 &&
      mixed.failures.length === 0 &&
      deadLetters === 0 &&
      verified(v);
    process.stdout.write(`RESULT ${JSON.stringify({ ok, ...figures })}\n`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stopService(child);
  }
} finally {
  await db.dispose();
}
