/**
 * Does the service keep answering while it works? Probes `GET /health` and `POST /search` every 100 ms (10 s
 * timeout each, timeouts counted) while (a) a 20 MB text document is uploaded and projected, and (b) the chunks
 * projection is rebuilt over the SciFact corpus (the replay writes every chunk and the vector index is built).
 * Starts the built service embedded (fresh DATA_DIR) or on a fresh database of --database-url.
 * Run: npm run build && npx tsx bench/responsiveness.ts --scifact /work/shared/eval/scifact/corpus.jsonl
 *      [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--mb 20] [--docs 5183]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { arg, listeningPort } from './support.js';

const KEY = 'bench-admin-key-0123456789abcdef';
const COACH = 'bench';
const serverUrl = process.argv.includes('--database-url') ? arg('database-url', '') : undefined;
const megabytes = Number(arg('mb', '20'));
const docs = Number(arg('docs', '5183'));
/** e.g. SERVICE_NODE_ARGS=--cpu-prof to profile the service. */
const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const corpusPath = arg('scifact', '/work/shared/eval/scifact/corpus.jsonl');

interface Service {
  child: ChildProcess;
  base: string;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js', 'serve'], {
    env: {
      ...process.env,
      ...env,
      ...{ PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'log', ADMIN_API_KEY: KEY },
      RATE_LIMIT_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.on('exit', (code, signal) => console.error(`the service exited: code ${code}, signal ${signal}`));
  child.stdout!.on('data', (c: Buffer) => {
    for (const line of c.toString().split('\n'))
      if (/"level":"(warn|error|fatal)"/.test(line)) console.error(line);
  });
  const port = await listeningPort(child);
  return { child, base: `http://127.0.0.1:${port}` };
}

const auth = { authorization: `Bearer ${KEY}` };

async function call(base: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(`${base}${path}`, { ...init, headers: { ...auth, ...init.headers } });
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${body.slice(0, 300)}`);
  return body ? JSON.parse(body) : undefined;
}

function form(file: Blob, name: string, extra: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(extra)) f.set(k, v);
  f.set('file', file, name);
  return f;
}

type Kind = 'health' | 'search' | 'user';
const KINDS: Record<Kind, string> = {
  health: 'GET /health',
  search: 'POST /search',
  user: 'POST /search, one user',
};

/**
 * Every 100 ms one probe of `/health` and one of `/search`, whether or not the previous one has answered (an open
 * loop: 10 searches a second, more than one embedded session serves when each misses the query cache); and one
 * user's searches, each sent 100 ms after the previous one answered (a closed loop: what one person waits).
 */
function probe(base: string) {
  const samples: Record<Kind, number[]> = { health: [], search: [], user: [] };
  const timeouts: Record<Kind, number> = { health: 0, search: 0, user: 0 };
  const pending: Promise<void>[] = [];
  const once = (kind: Kind, init: () => Promise<Response>) => {
    const t0 = performance.now();
    const p = init()
      .then(async (res) => {
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${kind} probe: ${res.status}`);
        samples[kind].push(performance.now() - t0);
      })
      .catch((error: Error) => {
        if (error.name === 'TimeoutError') timeouts[kind]++;
        else throw error;
      });
    pending.push(p);
    return p;
  };
  const body = JSON.stringify({ coachId: COACH, query: 'cerebral white matter diffusion', k: 10 });
  const headers = { ...auth, 'content-type': 'application/json' };
  const search = () =>
    fetch(`${base}/search`, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  const timer = setInterval(() => {
    once('health', () => fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) }));
    once('search', search);
  }, 100);
  let stopped = false;
  const user = (async () => {
    while (!stopped) {
      await once('user', search);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    clearInterval(timer);
    stopped = true;
    await user;
    await Promise.all(pending);
    return { samples, timeouts };
  };
}

type ProbeResult = Awaited<ReturnType<ReturnType<typeof probe>>>;

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

function rows(label: string, r: ProbeResult, seconds: number): string[] {
  return (Object.keys(KINDS) as Kind[]).map((kind) => {
    const s = [...r.samples[kind]].sort((a, b) => a - b);
    const ms = (n: number) =>
      Number.isNaN(n) ? '–' : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`;
    const p = [quantile(s, 0.5), quantile(s, 0.99), s.at(-1) ?? NaN].map(ms).join(' | ');
    return `| ${label} (${seconds.toFixed(0)} s) | ${KINDS[kind]} | ${s.length} | ${p} | ${r.timeouts[kind]} |`;
  });
}

async function caughtUp(base: string): Promise<void> {
  for (;;) {
    const all = (await call(base, '/admin/projections')) as Array<Record<string, unknown>>;
    const chunks = all.find((p) => p.name === 'chunks')!;
    if (chunks.lag === 0 && chunks.status === 'live' && !chunks.rebuildRequested) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A sentinel upload projected after the catch-up: the projector has also finished its idle work (the index). */
async function settled(base: string, tag: string): Promise<void> {
  await caughtUp(base);
  await upload(base, new Blob([`sentinel ${tag}`]), `${tag}.txt`);
  await caughtUp(base);
}

function upload(base: string, file: Blob, name: string) {
  const metadata = JSON.stringify({ documentType: 'research', tags: [], accessTier: 'free' });
  return call(base, '/documents', { method: 'POST', body: form(file, name, { coachId: COACH, metadata }) });
}

function corpus(): Array<{ title: string; text: string }> {
  return readFileSync(corpusPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { title: string; text: string });
}

function bigText(entries: Array<{ title: string; text: string }>, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const e = entries[i % entries.length]!;
    const para = `${e.title}\n\n${e.text}\n\n`;
    parts.push(para);
    size += Buffer.byteLength(para);
  }
  return parts.join('');
}

/** The corpus as JSON uploads, four at a time. */
async function load(base: string, entries: Array<{ title: string; text: string }>): Promise<void> {
  const metadata = { documentType: 'research', tags: [], accessTier: 'free' };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < entries.length; i = next++) {
      const { title, text } = entries[i]!;
      const json = {
        coachId: COACH,
        title: title || `doc ${i}`,
        content: text || title,
        format: 'text',
        metadata,
      };
      const body = JSON.stringify(json);
      await call(base, '/documents', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** How long an upload over MAX_UPLOAD_BYTES (the default 50 MB) waits for its 413 while the projector works. */
async function oversize(base: string, out: string[]): Promise<void> {
  const t0 = performance.now();
  const res = await fetch(`${base}/documents`, {
    method: 'POST',
    headers: auth,
    body: form(new Blob([new Uint8Array(50 * 1024 * 1024 + 1)]), 'too-big.txt', { coachId: COACH }),
  });
  await res.arrayBuffer();
  out.push(
    `| (during it) an upload of 50 MB + 1 byte | its ${res.status} | 1 | ${(performance.now() - t0).toFixed(0)} ms | | | |`,
  );
}

async function measure(base: string, label: string, work: () => Promise<void>, out: string[]) {
  console.error(`${new Date().toISOString()} ${label}…`);
  const stop = probe(base);
  const t0 = performance.now();
  await work();
  const lines = rows(label, await stop(), (performance.now() - t0) / 1000);
  console.error(lines.join('\n'));
  out.push(...lines);
}

async function database(): Promise<{ env: Record<string, string>; dispose: () => Promise<void> }> {
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'docsvc-resp-'));
    return { env: { DATA_DIR: dir }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `bench_embedded_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    async dispose() {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function main(): Promise<void> {
  const db = await database();
  const svc = await startService(db.env);
  const out: string[] = [];
  try {
    const entries = corpus();
    const text = bigText(entries, megabytes * 1024 * 1024);
    await measure(
      svc.base,
      `${megabytes} MB upload, projected`,
      async () => {
        await upload(svc.base, new Blob([text]), 'big.txt');
        await oversize(svc.base, out);
        await settled(svc.base, 'a');
      },
      out,
    );
    const t0 = performance.now();
    await load(svc.base, entries.slice(0, docs));
    await settled(svc.base, 'b');
    console.error(`loaded ${docs} SciFact documents in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // The control: the same probes with nothing being projected, on the same data.
    const idle = () => new Promise<void>((resolve) => setTimeout(resolve, 15_000));
    await measure(svc.base, `idle, ${docs} docs + ${megabytes} MB loaded`, idle, out);
    await measure(
      svc.base,
      `chunks rebuild + vector index, ${docs} docs + ${megabytes} MB`,
      async () => {
        await call(svc.base, '/admin/projections/chunks/rebuild', { method: 'POST' });
        await settled(svc.base, 'c');
      },
      out,
    );
  } finally {
    svc.child.kill('SIGTERM');
    await new Promise((r) => svc.child.once('exit', r));
    await db.dispose();
  }
  const where = serverUrl ? 'PostgreSQL 15 + pgvector 0.8.0' : 'embedded (PGlite 0.5.14, DATA_DIR)';
  console.log(`${where}; ${new Date().toISOString().slice(0, 10)}; ${cpus().length} × ${cpus()[0]?.model}`);
  console.log('| while | probe | answers | p50 | p99 | max | timeouts (10 s) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const line of out) console.log(line);
}

await main();
