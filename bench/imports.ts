/**
 * Folder and CSV imports through the CLI against the BUILT service (`node dist/src/main.js serve`), on the
 * embedded database (PGlite, a fresh temp DATA_DIR) and on PostgreSQL (a fresh database on --database-url's
 * server, dropped afterwards), one after the other in one run:
 *
 * 1. `docsvc import <dir> --coach bench --type research --tier premium --url … --json` over a copy of the corpus's
 *    pdf/ and docx/ folders (MANIFEST.tsv is not a document): wall time, files/s, MB/s, the report's counts and
 *    its failures by code; then the time until every projection is live with lag 0 (GET /admin/projections),
 *    counted from the import's start; then the same import again (every file unchanged, nothing created).
 * 2. `docsvc import-csv <file> --url … --json` with the first --rows SciFact documents as CSV: rows/s (wall) and
 *    the time to searchable, as above.
 *
 * Needs the build (`npm run bench:imports` runs `npm run build` first). Prints a markdown table per engine, then
 * one JSON line with every figure.
 * Run: npm run bench:imports -- [--corpus ../shared/corpus] [--scifact ../shared/eval/scifact/corpus.jsonl]
 *      [--rows 5000] [--database-url postgres://postgres@127.0.0.1:5432/test] [--engines pglite,postgres]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, benchDatabase, fmt, listeningPort } from './support.js';

const corpus = arg('corpus', '../shared/corpus');
const scifact = arg('scifact', '../shared/eval/scifact/corpus.jsonl');
const rows = Number(arg('rows', '5000'));
const serverUrl = arg(
  'database-url',
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);
const engines = arg('engines', 'pglite,postgres').split(',');
const KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
const SEARCHABLE_TIMEOUT_MS = 30 * 60_000;

interface Service {
  child: ChildProcess;
  base: string;
  /** Set when the service exits before it is stopped: a crash during the run. */
  exited?: string;
  /** The end of its output, for an error message. */
  tail: () => string;
  /** Peak resident memory since the last reset, sampled every 100 ms. */
  peakRssMb: () => number;
  resetPeak: () => void;
  stop: () => Promise<void>;
}

interface FolderReport {
  files: number;
  created: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  retired: number;
  failed: Array<{ path: string; code: string; detail: string }>;
  interrupted: boolean;
}

interface CsvReport {
  imported: number;
  duplicates: number;
  failed: Array<{ line: number; code: string; detail: string }>;
  position: string | null;
}

interface Projection {
  name: string;
  lag: number;
  status: string;
  deadLetters: Array<{ errorCode: string; eventType: string }>;
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
}

/** The built service on PORT=0, resolved once it logs its port. */
async function startService(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    env: {
      ...process.env,
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      ADMIN_API_KEY: KEY,
      // The projections are polled every 50 ms: the default 1,200 requests a minute would answer 429.
      RATE_LIMIT_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 100);
  const service: Service = {
    child,
    base: '',
    tail: () => out.slice(-3000),
    peakRssMb: () => peak,
    resetPeak: () => (peak = rssMb(child.pid!)),
    async stop() {
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  const port = await listeningPort(child);
  child.once('exit', (code, signal) => (service.exited = `exit ${code ?? signal}`));
  service.base = `http://127.0.0.1:${port}`;
  return service;
}

async function api<T>(service: Service, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${service.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls GET /admin/projections until every projection is live with lag 0; the ms since `startedAt`. */
async function untilSearchable(service: Service, startedAt: number) {
  const deadline = Date.now() + SEARCHABLE_TIMEOUT_MS;
  let polls = 0;
  for (;;) {
    if (service.exited) throw new Error(`service ${service.exited} while projecting: ${service.tail()}`);
    const list = await api<Projection[]>(service, 'GET', '/admin/projections');
    polls++;
    if (list.every((p) => p.lag === 0 && p.status === 'live')) {
      const deadLetters = list.flatMap((p) =>
        p.deadLetters.map((d) => `${p.name}: ${d.eventType} ${d.errorCode}`),
      );
      return { ms: performance.now() - startedAt, polls, deadLetters };
    }
    if (Date.now() > deadline) throw new Error(`projections not live after 30 min: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The CLI as a user runs it, with the admin key in DOCSVC_API_KEY; its --json report and the wall time. */
async function cli<T>(
  args: string[],
): Promise<{ ms: number; code: number | null; report: T; stderr: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/src/main.js', ...args, '--json'], {
    env: { ...process.env, DOCSVC_API_KEY: KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const ms = performance.now() - started;
  let report: T & { error?: { code: string; message: string } };
  try {
    report = JSON.parse(stdout) as typeof report;
  } catch {
    throw new Error(
      `docsvc ${args[0]} exited ${code} without a JSON report: ${stdout}\n${stderr.slice(-2000)}`,
    );
  }
  if (report.error)
    throw new Error(`docsvc ${args[0]} failed: ${report.error.code}: ${report.error.message}`);
  return { ms, code, report, stderr };
}

/** Active documents of a coach, from GET /documents (a check that the counts are what the service holds). */
async function countDocuments(service: Service, coachId: string): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const q: URLSearchParams = new URLSearchParams({ coachId, status: 'active', limit: '100' });
    if (cursor) q.set('cursor', cursor);
    const page: { items: unknown[]; nextCursor: string | null } = await api(
      service,
      'GET',
      `/documents?${q}`,
    );
    n += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return n;
}

function filesUnder(dir: string): Array<{ path: string; bytes: number }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    return e.isFile() ? [{ path, bytes: statSync(path).size }] : [];
  });
}

/** Every field quoted, inner quotes doubled (RFC 4180). */
const csvField = (value: string) => `"${value.replaceAll('"', '""')}"`;

function buildCsv(file: string): { rows: number; bytes: number; firstTitle: string } {
  const lines = readFileSync(scifact, 'utf8').split('\n').filter(Boolean).slice(0, rows);
  if (lines.length < rows)
    throw new Error(`${scifact} has ${lines.length} documents, fewer than --rows ${rows}`);
  const header = 'coach_id,title,content,document_type,access_tier,tags,author,publication_date';
  let firstTitle = '';
  const records = lines.map((line) => {
    const doc = JSON.parse(line) as { _id: string; title: string; text: string };
    const title = doc.title.trim() || doc._id;
    firstTitle ||= title;
    return ['bench-csv', title, doc.text, 'research', 'free', '', '', ''].map(csvField).join(',');
  });
  const text = `${header}\n${records.join('\n')}\n`;
  writeFileSync(file, text);
  return { rows: records.length, bytes: Buffer.byteLength(text), firstTitle };
}

function byCode(failed: Array<{ code: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of failed) counts[f.code] = (counts[f.code] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const describeCodes = (codes: Record<string, number>) =>
  Object.entries(codes)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || 'none';

async function runEngine(
  engine: 'pglite' | 'postgres',
  folder: string,
  csvFile: string,
  csv: ReturnType<typeof buildCsv>,
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-bench-imports-'));
  // A fresh database, migrated (the service would migrate it on start); --keep leaves it for a look.
  const pgDb = engine === 'postgres' ? await benchDatabase('postgres', serverUrl) : undefined;
  const label = pgDb ? pgDb.label : 'PGlite (fresh DATA_DIR)';
  const startupStarted = performance.now();
  const service = await startService(pgDb ? { DATABASE_URL: pgDb.url! } : { DATA_DIR: dataDir });
  const startupMs = performance.now() - startupStarted;
  try {
    const files = filesUnder(folder);
    const bytes = files.reduce((s, f) => s + f.bytes, 0);
    const folderArgs = ['import', folder, '--coach', 'bench', '--type', 'research', '--tier', 'premium'];

    // 1. The folder, then until searchable, then again.
    service.resetPeak();
    const started = performance.now();
    const first = await cli<FolderReport>([...folderArgs, '--url', service.base]);
    const folderSearchable = await untilSearchable(service, started);
    const folderPeakRss = service.peakRssMb();
    const folderDocs = await countDocuments(service, 'bench');
    const folderHits = await api<{ results: unknown[] }>(service, 'POST', '/search', {
      coachId: 'bench',
      query: 'installation and configuration',
      k: 10,
    });
    const second = await cli<FolderReport>([...folderArgs, '--url', service.base]);

    // 2. The CSV file, then until searchable.
    service.resetPeak();
    const csvStarted = performance.now();
    const csvRun = await cli<CsvReport>(['import-csv', csvFile, '--url', service.base]);
    const csvSearchable = await untilSearchable(service, csvStarted);
    const csvPeakRss = service.peakRssMb();
    const csvDocs = await countDocuments(service, 'bench-csv');
    const csvHits = await api<{ results: Array<{ title: string }> }>(service, 'POST', '/search', {
      coachId: 'bench-csv',
      query: csv.firstTitle,
      k: 10,
    });
    if (service.exited) throw new Error(`service ${service.exited} during the run: ${service.tail()}`);

    const mb = bytes / 1e6;
    return {
      engine: label,
      startupMs,
      folder: {
        files: files.length,
        mb,
        wallS: first.ms / 1000,
        filesPerS: files.length / (first.ms / 1000),
        mbPerS: mb / (first.ms / 1000),
        exitCode: first.code,
        reportedFiles: first.report.files,
        created: first.report.created,
        updated: first.report.updated,
        unchanged: first.report.unchanged,
        duplicates: first.report.duplicates,
        failed: first.report.failed.length,
        failedByCode: byCode(first.report.failed),
        failures: first.report.failed.map((f) => `${f.path}: ${f.code}`),
        toSearchableS: folderSearchable.ms / 1000,
        deadLetters: folderSearchable.deadLetters,
        documentsListed: folderDocs,
        searchHits: folderHits.results.length,
        peakServiceRssMb: folderPeakRss,
        again: {
          wallS: second.ms / 1000,
          created: second.report.created,
          updated: second.report.updated,
          unchanged: second.report.unchanged,
          duplicates: second.report.duplicates,
          failed: second.report.failed.length,
        },
      },
      csv: {
        rows: csv.rows,
        mb: csv.bytes / 1e6,
        wallS: csvRun.ms / 1000,
        rowsPerS: csv.rows / (csvRun.ms / 1000),
        exitCode: csvRun.code,
        imported: csvRun.report.imported,
        duplicates: csvRun.report.duplicates,
        failed: csvRun.report.failed.length,
        failedByCode: byCode(csvRun.report.failed),
        toSearchableS: csvSearchable.ms / 1000,
        rowsPerSToSearchable: csv.rows / (csvSearchable.ms / 1000),
        deadLetters: csvSearchable.deadLetters,
        documentsListed: csvDocs,
        firstRowFound: csvHits.results.some((r) => r.title === csv.firstTitle),
        peakServiceRssMb: csvPeakRss,
      },
    };
  } finally {
    await service.stop();
    await pgDb?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Result = Awaited<ReturnType<typeof runEngine>>;

function printTable(r: Result) {
  const f = r.folder;
  const c = r.csv;
  const s = (x: number) => x.toFixed(1);
  const rowsOut: Array<[string, string]> = [
    ['service start-up (spawn → listening)', `${fmt(r.startupMs)} ms`],
    ['folder: files / MB', `${f.files} / ${f.mb.toFixed(1)} MB`],
    ['folder import: wall (CLI spawn → exit)', `${s(f.wallS)} s (exit code ${f.exitCode})`],
    ['folder import: files/s; MB/s', `${f.filesPerS.toFixed(2)}; ${f.mbPerS.toFixed(2)}`],
    [
      'folder import: created / new versions / unchanged / duplicates / failed',
      `${f.created} / ${f.updated} / ${f.unchanged} / ${f.duplicates} / ${f.failed}`,
    ],
    ['folder import: failures by code', describeCodes(f.failedByCode)],
    ['folder import: to searchable (import start → every projection live, lag 0)', `${s(f.toSearchableS)} s`],
    [
      'folder import: documents listed; search hits; dead letters',
      `${f.documentsListed}; ${f.searchHits}; ${f.deadLetters.length}`,
    ],
    [
      'folder import again: wall; created / unchanged / failed',
      `${s(f.again.wallS)} s; ${f.again.created} / ${f.again.unchanged} / ${f.again.failed}`,
    ],
    ['folder import: service peak RSS', `${fmt(f.peakServiceRssMb)} MB`],
    ['CSV: rows / MB', `${c.rows} / ${c.mb.toFixed(1)} MB`],
    [
      'CSV import: wall (CLI spawn → exit); rows/s',
      `${s(c.wallS)} s (exit code ${c.exitCode}); ${fmt(c.rowsPerS)}`,
    ],
    [
      'CSV import: imported / duplicates / failed',
      `${c.imported} / ${c.duplicates} / ${c.failed} (${describeCodes(c.failedByCode)})`,
    ],
    [
      'CSV import: to searchable; rows/s to searchable',
      `${s(c.toSearchableS)} s; ${fmt(c.rowsPerSToSearchable)}`,
    ],
    [
      'CSV import: documents listed; first row found by search; dead letters',
      `${c.documentsListed}; ${c.firstRowFound}; ${c.deadLetters.length}`,
    ],
    ['CSV import: service peak RSS', `${fmt(c.peakServiceRssMb)} MB`],
  ];
  console.log(`\n## ${r.engine}\n`);
  console.log('| figure | value |');
  console.log('|---|---:|');
  for (const [k, v] of rowsOut) console.log(`| ${k} | ${v} |`);
  if (f.failures.length) console.log(`\nfailed files: ${f.failures.join('; ')}`);
  if (f.deadLetters.length || c.deadLetters.length)
    console.log(`\ndead letters: ${[...f.deadLetters, ...c.deadLetters].join('; ')}`);
}

for (const [what, path] of [
  ['--corpus', corpus],
  ['--scifact', scifact],
] as const)
  if (!existsSync(path)) throw new Error(`${what} ${path} does not exist`);
if (!existsSync('dist/src/main.js'))
  throw new Error('no build: run npm run build first (npm run bench:imports does)');

const work = mkdtempSync(join(tmpdir(), 'docsvc-bench-imports-input-'));
try {
  // The documents only: pdf/ and docx/ (MANIFEST.tsv beside them is not a document).
  const folder = join(work, 'corpus');
  for (const sub of ['pdf', 'docx'])
    if (existsSync(join(corpus, sub))) cpSync(join(corpus, sub), join(folder, sub), { recursive: true });
  if (!existsSync(folder)) throw new Error(`${corpus} has no pdf/ or docx/ folder`);
  const csvFile = join(work, 'scifact.csv');
  const csv = buildCsv(csvFile);
  console.log(
    `# folder and CSV imports — ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, corpus ${corpus} (pdf/, docx/), CSV: the first ${csv.rows} documents of ${scifact}`,
  );
  const results: Result[] = [];
  for (const engine of engines) {
    if (engine !== 'pglite' && engine !== 'postgres') throw new Error(`--engines: unknown engine ${engine}`);
    const r = await runEngine(engine, folder, csvFile, csv);
    printTable(r);
    results.push(r);
  }
  console.log('');
  console.log(JSON.stringify({ bench: 'imports', at: new Date().toISOString(), corpus, scifact, results }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
