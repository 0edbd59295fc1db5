/**
 * Rebuild throughput of the chunks projection (issue #5), and as-of search next to current search.
 *
 * Uploads synthetic Markdown documents (bench/corpus.ts, the corpus of search-speed.ts) through POST /documents
 * until they make `--chunks` chunks, edits a tenth of them after a moment T (so that as-of T sees superseded
 * chunks), waits for the projection, then:
 * - times text, vector and hybrid searches, current and `asOf: T`;
 * - rebuilds the chunks projection twice through POST /admin/projections/chunks/rebuild: with the embedding cache
 *   warm (every vector cached: no embedding), then cold (cache emptied first), timing request → live again.
 * Run: npx tsx bench/rebuild.ts [--database-url postgres://… | --pglite] [--chunks 20000] [--queries 50]
 */
import { markdownSections } from '../src/commands/documents/snapshot.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { chunkText } from '../src/projections/chunks/chunker.js';
import { makeDoc, phrase, pick, rand, TOPICS, type Doc } from './corpus.js';
import { createApp } from '../src/app/bootstrap.js';
import { SQL_CLIENT, type SqlClient } from '../src/infrastructure/sql/sql-client.js';
import { arg, benchDatabase, fmt } from './support.js';

const pglite = process.argv.includes('--pglite');
const target = Number(arg('chunks', '20000'));
const queryCount = Number(arg('queries', '50'));
const concurrency = Number(arg('concurrency', '6'));
const KEY = 'bench-admin-key-0123456789abcdef';
// The corpus of bench/search-speed.ts: documents of the coach `main` until they make `--chunks` chunks.
const corpus: Doc[] = [];
for (let n = 0; n < target;) {
  const d = makeDoc('main');
  n += chunkText({ content: d.content, sections: markdownSections(d.content) }).length;
  corpus.push(d);
}
const documents = corpus.length;

const db = await benchDatabase(
  pglite ? 'pglite' : 'postgres',
  arg('database-url', 'postgres://postgres@127.0.0.1:5432/test'),
);
const env = { ...(db.url ? { DATABASE_URL: db.url } : {}), ADMIN_API_KEY: KEY, LOG_LEVEL: 'error' };
const app = await createApp(
  loadConfig({
    ...env,
    RATE_LIMIT_PER_MINUTE: '1000000',
    QUERY_CACHE_TTL_SECONDS: '0',
    PROJECTOR_POLL_MS: '100',
  }),
  db.url ? undefined : db.client,
);
await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
const sql = app.get<SqlClient>(SQL_CLIENT);
/**
 * Requests are retried when the server reset a kept-alive connection under them (ECONNRESET), and counted. On
 * PGlite a statement runs on the event loop: after one that takes longer than the keep-alive timeout (this
 * bench's own VACUUM ANALYZE, an index build), the server's timer closes the idle connection before it reads the
 * request already sent on it. Every request here can be repeated safely (a repeated upload is a duplicate, a
 * repeated edit changes nothing, searches and reads write nothing).
 */
let resets = 0;
const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (attempt > 5 || !String((error as { cause?: unknown }).cause ?? error).includes('ECONNRESET'))
        throw error;
      resets++;
      continue;
    }
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  }
};
const read = (path: string) => call('GET', path);
/** Until the chunks projection has passed `position` (a search with minPosition answers 503 until then). */
const caughtUp = async (position: string) => {
  for (;;) {
    try {
      return await call('POST', '/search', { coachId: 'main', query: 'x', minPosition: position });
    } catch (error) {
      if (!String(error).includes('READ_MODEL_BEHIND')) throw error;
    }
  }
};
const note = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;

try {
  note(`uploading ${documents} documents`);
  const ids: string[] = [];
  let last = '';
  for (let i = 0; i < documents; i += concurrency) {
    const batch = await Promise.all(
      corpus.slice(i, i + concurrency).map((d) => call('POST', '/documents', { ...d, format: 'markdown' })),
    );
    for (const r of batch) [ids[ids.length], last] = [String(r.documentId), String(r.position)];
  }
  await caughtUp(last);
  await new Promise((r) => setTimeout(r, 50));
  const asOf = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 50));
  note('editing a tenth of them after T');
  for (const id of ids.filter((_, i) => i % 10 === 0))
    last = String((await call('PATCH', `/documents/${id}`, { content: makeDoc('main').content })).position);
  await caughtUp(last);
  const count = async (where: string) =>
    (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM chunks WHERE ${where}`)).rows[0]!.n;
  const [current, all] = [await count('is_current'), await count('true')];
  const events = (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
  await sql.exec('VACUUM ANALYZE');

  console.log(`# rebuild and as-of search — ${new Date().toISOString()}, ${db.label}\n`);
  console.log(`Command: \`npx tsx bench/rebuild.ts ${process.argv.slice(2).join(' ')}\`\n`);
  console.log(
    `${fmt(documents)} documents, ${fmt(events)} events; ${fmt(current)} current chunks, ${fmt(all)} in all\n`,
  );
  console.log('| mode | current p50 | current p95 | asOf T p50 | asOf T p95 |\n|---|---:|---:|---:|---:|');
  const queries = Array.from({ length: queryCount }, () => phrase(pick(TOPICS), 3 + Math.floor(rand() * 8)));
  for (const mode of ['vector', 'text', 'hybrid']) {
    const [now, then]: [number[], number[]] = [[], []];
    for (const q of queries) {
      for (const [into, extra] of [
        [now, {}],
        [then, { asOf }],
      ] as const) {
        const t = performance.now();
        await call('POST', '/search', { coachId: 'main', query: q, k: 10, mode, ...extra });
        into.push(performance.now() - t);
      }
    }
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    console.log(
      `| ${mode} | ${ms(pct(now, 0.5))} | ${ms(pct(now, 0.95))} | ${ms(pct(then, 0.5))} | ${ms(pct(then, 0.95))} |`,
    );
  }

  console.log('\n| rebuild | time | events/s | chunks/s |\n|---|---:|---:|---:|');
  for (const cache of ['warm', 'cold'] as const) {
    // The rebuild saves the chunks' vectors in the cache as it deletes them: cold means no chunk and no cache.
    if (cache === 'cold') await sql.exec('DELETE FROM chunks; DELETE FROM embedding_cache');
    note(`rebuild, cache ${cache}`);
    const status = async () =>
      ((await read('/admin/projections')) as unknown as Array<Record<string, unknown>>).find(
        (p) => p.name === 'chunks',
      )!;
    const before = Number((await status()).rebuilds);
    const t = performance.now();
    await call('POST', '/admin/projections/chunks/rebuild');
    for (;;) {
      const s = await status();
      if (Number(s.rebuilds) > before && !s.rebuildRequested && s.status === 'live' && s.lag === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t) / 1000;
    const rows = await count('true');
    console.log(
      `| embedding cache ${cache} | ${seconds.toFixed(1)} s | ${fmt(events / seconds)} | ${fmt(rows / seconds)} |`,
    );
  }
  console.log(`\nConnections reset by the server and retried: ${resets}`);
} finally {
  await app.close();
  await db.dispose();
}
