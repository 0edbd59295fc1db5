/**
 * Where one document's ingest spends its time: uploads the documents of a BEIR corpus one at a time (no
 * concurrency) to the built service on a fresh PostgreSQL database, waits for the chunks projection, and prints
 * pg_stat_statements' top statements (total time, calls per upload), the service's Node CPU profile (self time
 * by origin and function) and the database's bytes per chunk by table, TOAST and index.
 * --clients N uploads with N concurrent clients (1); with --csv ROWS, the documents go as CSV files of ROWS rows
 * (POST /imports/csv) by --clients N (4) clients instead.
 * Run: npm run build && npx tsx bench/ingest-profile.ts <corpus.jsonl> --database-url postgres://… [--limit N]
 *      [--csv 500 [--clients 4]] [--keep]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { summarizeProfile } from './cpu-profile.js';
import { storageReport } from './storage-report.js';
import { arg, benchDatabase } from './support.js';
import { KEY, uploadCsv } from './compare/docsvc-side.js';

const corpusFile = process.argv[2]!;
const limit = Number(arg('limit', '0'));
const csvRows = Number(arg('csv', '0'));
const clients = Number(arg('clients', '4'));
const jsonClients = Number(arg('clients', '1'));
const docs = readFileSync(corpusFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { _id: string; title?: string; text: string })
  .slice(0, limit || undefined);

const db = await benchDatabase('postgres', arg('database-url', ''));
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
await sql.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
// Statements run by triggers (the BM25 statistics) too, for the service's sessions (this database only).
await sql.query(`ALTER DATABASE ${new URL(db.url!).pathname.slice(1)} SET pg_stat_statements.track = 'all'`);
const port = await freePort();
const profileDir = mkdtempSync(join(tmpdir(), 'docsvc-prof-'));
// Nest re-raises SIGTERM after closing, which would kill the process before the profile is written: SIGUSR2 exits.
const child = spawn(
  process.execPath,
  [
    `--cpu-prof`,
    `--cpu-prof-dir=${profileDir}`,
    '--import',
    'data:text/javascript,process.once("SIGUSR2",()=>process.exit(0))',
    'dist/src/main.js',
    'serve',
  ],
  {
    env: {
      ...process.env,
      DATABASE_URL: db.url!,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_API_KEY: KEY,
      RATE_LIMIT_PER_MINUTE: '1000000',
      // Logs are left out of the profile: a line per request written to a pipe is synchronous on Linux.
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const base = `http://127.0.0.1:${port}`;
child.on('exit', (code) => code && console.error(`service exited ${code}`));
for (;;) {
  const up = await fetch(`${base}/health`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  await new Promise((r) => setTimeout(r, 200));
}
await sql.query('SELECT pg_stat_statements_reset()');
const cpuBefore = { machine: machineCpuSeconds(), service: processCpuSeconds(child.pid!) };
const started = performance.now();
if (csvRows > 0) await uploadAsCsv();
else await uploadOneByOne();
const uploadedMs = performance.now() - started;
// Caught up when the chunks checkpoint is at the last event (GET /admin/projections counts only the events below
// the late-commit horizon, which a long transaction anywhere on the server holds back).
for (;;) {
  const { rows } = await sql.query<{ done: boolean }>(
    `SELECT coalesce((SELECT (c.position_tx, c.position_seq) >= (e.transaction_id, e.global_position)
       FROM projection_checkpoints c, (SELECT transaction_id, global_position FROM events
         ORDER BY transaction_id DESC, global_position DESC LIMIT 1) e WHERE c.name = 'chunks'), false) AS done`,
  );
  if (rows[0]!.done) break;
  await new Promise((r) => setTimeout(r, 200));
}
const indexedMs = performance.now() - started;
const serviceCpu = processCpuSeconds(child.pid!) - cpuBefore.service;
const machineCpu = machineCpuSeconds() - cpuBefore.machine;
child.kill('SIGUSR2');
await new Promise((resolve) => child.once('exit', resolve));

const how =
  csvRows > 0
    ? `as CSV files of ${csvRows} rows, ${clients} clients`
    : `uploaded one per request by ${jsonClients} client(s)`;
console.log(`# ingest profile — ${new Date().toISOString()}, ${db.label}, ${docs.length} documents ${how}\n`);
console.log(
  `uploads done in ${(uploadedMs / 1000).toFixed(1)} s (${(uploadedMs / docs.length).toFixed(1)} ms each), ` +
    `indexed in ${(indexedMs / 1000).toFixed(1)} s\n`,
);
console.log(
  `CPU from the first upload to indexed: machine ${machineCpu.toFixed(1)} s (all processes), service process ` +
    `${serviceCpu.toFixed(1)} s = ${((serviceCpu * 1000) / docs.length).toFixed(2)} ms a document, the rest ` +
    `(PostgreSQL, this client) ${(machineCpu - serviceCpu).toFixed(1)} s\n`,
);
const { rows } = await sql.query<{ calls: string; total: number; mean: number; query: string }>(
  `SELECT calls, total_exec_time AS total, mean_exec_time AS mean, regexp_replace(query, '\\s+', ' ', 'g') AS query
   FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   ORDER BY total_exec_time DESC LIMIT 25`,
);
console.log('| statement | calls / upload | total ms | mean ms |\n|---|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| \`${r.query.slice(0, 110).replace(/\|/g, '\\|')}\` | ${(Number(r.calls) / docs.length).toFixed(2)} | ` +
      `${r.total.toFixed(0)} | ${r.mean.toFixed(3)} |`,
  );
const profile = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))!;
console.log(`\n## Node CPU profile of the service (${join(profileDir, profile)})\n`);
console.log(summarizeProfile(join(profileDir, profile)));
console.log('\n## Storage\n');
console.log(await storageReport(sql));
await sql.end();
await db.dispose();

/** One POST /documents per document, by --clients concurrent clients (1 unless given). */
async function uploadOneByOne() {
  let next = 0;
  const client = async () => {
    while (next < docs.length) {
      const d = docs[next++]!;
      const res = await fetch(`${base}/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          coachId: 'scifact',
          title: d.title?.trim() || d._id,
          content: d.text.trim() || d.title || d._id,
          metadata: { documentType: 'research', tags: [], accessTier: 'free' },
        }),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`upload ${d._id}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: csvRows > 0 ? 1 : jsonClients }, client));
}

async function uploadAsCsv() {
  const bench = docs.map((d) => ({ title: d.title?.trim() || d._id, content: d.text.trim() || d._id }));
  await uploadCsv(base, bench, clients, csvRows);
}

/** CPU seconds of a process so far (user + system, from /proc; clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the whole machine has been busy so far (every state but idle and iowait, /proc/stat). */
function machineCpuSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
