/**
 * Upload throughput: single `POST /documents` (JSON, --clients at once) against `POST /imports/csv` (files of
 * --rows rows, imported 500 per transaction), each on a fresh PostgreSQL database with the built service; the time
 * until the last write is searchable (`POST /search` with `minPosition` of the last write); and the SQL statements
 * per single upload (pg_stat_statements, the projector off, --stmt-docs uploads).
 *
 * Run: npm run build && npx tsx bench/bulk-upload.ts --corpus /work/shared/eval/scifact/corpus.jsonl \
 *   --database-url postgres://postgres@127.0.0.1:5432/postgres [--limit 5183] [--clients 4] [--rows 1000]
 *   [--service-dir .] [--single-only]
 * --service-dir runs another checkout's build (e.g. the commit before the bulk path) for a before/after figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { comparePositions, parsePosition } from '../src/infrastructure/event-store/position.js';
import { arg, benchDatabase, fmt, listeningPort } from './support.js';

const KEY = 'bench-admin-key-0123456789abcdef';
const HEADER = 'coach_id,title,content,document_type,access_tier,tags,author,publication_date';
const serverUrl = arg('database-url', 'postgres://postgres@127.0.0.1:5432/postgres');
const serviceDir = resolve(arg('service-dir', '.'));
const clients = Number(arg('clients', '4'));
const rowsPerRequest = Number(arg('rows', '1000'));

interface Doc {
  title: string;
  text: string;
}

const corpus: Doc[] = readFileSync(arg('corpus', '/work/shared/eval/scifact/corpus.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Doc)
  .filter((d) => d.text.trim() && d.title.trim())
  .slice(0, Number(arg('limit', '100000')));

async function startService(url: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [`${serviceDir}/dist/src/main.js`, 'serve'], {
    cwd: serviceDir,
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'log',
      ADMIN_API_KEY: KEY,
      RATE_LIMIT_PER_MINUTE: '1000000',
      MAX_UPLOAD_BYTES: String(200 * 1024 * 1024),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child);
  return { child, base: `http://127.0.0.1:${port}` };
}

const stop = (child: ChildProcess) =>
  new Promise<void>((ok) => {
    child.once('exit', () => ok());
    child.kill('SIGTERM');
  });

const call = async (base: string, path: string, body: string | FormData, json = true) => {
  const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
  if (json) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method: 'POST', headers, body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as { position: string; imported?: number; failed?: unknown[] };
};

const later = (a: string | undefined, b: string) =>
  !a || comparePositions(parsePosition(b), parsePosition(a)) > 0 ? b : a;

const meta = { documentType: 'research', tags: [], accessTier: 'free' };

async function single(base: string, docs: readonly Doc[]): Promise<string> {
  let next = 0;
  let last: string | undefined;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < docs.length) {
        const d = docs[next++]!;
        const body = JSON.stringify({ coachId: 'bench', title: d.title, content: d.text, metadata: meta });
        last = later(last, (await call(base, '/documents', body)).position);
      }
    }),
  );
  return last!;
}

const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;

async function csv(base: string, docs: readonly Doc[]): Promise<string> {
  let last: string | undefined;
  for (let i = 0; i < docs.length; i += rowsPerRequest) {
    const rows = docs
      .slice(i, i + rowsPerRequest)
      .map((d) => `bench,${quote(d.title)},${quote(d.text)},research,free,,,`);
    const form = new FormData();
    form.set('file', new Blob([[HEADER, ...rows].join('\n')]), 'corpus.csv');
    const report = await call(base, '/imports/csv', form, false);
    if (report.failed!.length > 0)
      throw new Error(`rows failed: ${JSON.stringify(report.failed!.slice(0, 3))}`);
    last = later(last, report.position);
  }
  return last!;
}

/** From the last write until a search that waits for its position answers. */
async function timeToSearchable(base: string, position: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await fetch(`${base}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ coachId: 'bench', query: 'protein', minPosition: position }),
    });
    await res.arrayBuffer();
    if (res.status === 200) return performance.now() - started;
  }
}

async function throughput(label: string, write: (base: string, docs: readonly Doc[]) => Promise<string>) {
  const db = await benchDatabase('postgres', serverUrl);
  const { child, base } = await startService(db.url!);
  try {
    const started = performance.now();
    const last = await write(base, corpus);
    const seconds = (performance.now() - started) / 1000;
    const searchable = await timeToSearchable(base, last);
    console.log(
      `${label}: ${corpus.length} docs in ${seconds.toFixed(1)} s = ${fmt(corpus.length / seconds)} docs/s; searchable ${(searchable / 1000).toFixed(1)} s after the last write`,
    );
  } finally {
    await stop(child);
    await db.dispose();
  }
}

/** Statements per single upload, the projector off (its own statements are not the upload's). */
async function statementsPerUpload(docs: readonly Doc[]) {
  const db = await benchDatabase('postgres', serverUrl);
  const { child, base } = await startService(db.url!, { PROJECTOR_ENABLED: 'false' });
  const probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  try {
    await probe.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await single(base, docs.slice(0, 5)); // warm-up
    await probe.query('SELECT pg_stat_statements_reset()');
    await single(base, docs.slice(5));
    const { rows } = await probe.query<{ calls: string }>(
      `SELECT sum(calls)::text AS calls FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat_statements%'`,
    );
    console.log(
      `statements per single upload: ${(Number(rows[0]!.calls) / (docs.length - 5)).toFixed(2)} (${docs.length - 5} uploads)`,
    );
  } finally {
    await probe.end();
    await stop(child);
    await db.dispose();
  }
}

await statementsPerUpload(corpus.slice(0, Number(arg('stmt-docs', '205'))));
await throughput(`single POST /documents, ${clients} clients`, single);
if (!process.argv.includes('--single-only'))
  await throughput(`POST /imports/csv, ${rowsPerRequest} rows per request`, csv);
