/**
 * Service start-up time (process spawn → GET /health answers) and idle resident memory, on PGlite (first start
 * with an empty DATA_DIR, then a restart) and on PostgreSQL. Needs `npm run build` first (bench:service does it).
 * Run: npm run bench:service -- [--database-url postgres://…] [--idle-seconds 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, benchDatabase, fmt, listeningPort } from './support.js';

const idleSeconds = Number(arg('idle-seconds', '10'));
const serverUrl = arg(
  'database-url',
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function measure(env: Record<string, string>) {
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child);
  while (
    !(await fetch(`http://127.0.0.1:${port}/health`)
      .then((r) => r.ok)
      .catch(() => false))
  ) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const startupMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const rss = rssMb(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return { startupMs, rss };
}

console.log(
  `# service start-up and idle memory — ${new Date().toISOString()}, idle ${idleSeconds} s before reading RSS\n`,
);
console.log('| database | start | start-up (spawn → /health) | idle RSS |');
console.log('|---|---|---:|---:|');
const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-bench-service-'));
try {
  const first = await measure({ DATA_DIR: dataDir });
  console.log(
    `| PGlite | first (empty DATA_DIR: initdb + migrations) | ${fmt(first.startupMs)} ms | ${first.rss.toFixed(0)} MB |`,
  );
  const again = await measure({ DATA_DIR: dataDir });
  console.log(`| PGlite | restart | ${fmt(again.startupMs)} ms | ${again.rss.toFixed(0)} MB |`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
const db = await benchDatabase('postgres', serverUrl);
try {
  const first = await measure({ DATABASE_URL: db.url! });
  console.log(
    `| ${db.label} | migrated, restart | ${fmt(first.startupMs)} ms | ${first.rss.toFixed(0)} MB |`,
  );
} finally {
  await db.dispose();
}
