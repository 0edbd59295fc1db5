/**
 * `npm run test:reliability [-- --only a,b] [--minutes-scale F]`: the long reliability runs (RELIABILITY.md), one
 * child process each, in turn. Each check is a script in this folder that prints its figures as one JSON line
 * starting with `RESULT ` and exits 0 when every property held. A check that outlives its bound is killed and
 * counts as failed. Traffic goes to 127.0.0.1 only: every service, database and stand-in the checks start listens
 * there, and the PostgreSQL they use is `TEST_DATABASE_URL` (a local server).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Check {
  name: string;
  script: string;
  /** The bound on the whole check, minutes. */
  minutes: number;
  args?: string[];
}

/** In the order they run; the soak last (it is the longest). */
export const CHECKS: Check[] = [
  { name: 'auth-matrix', script: 'auth-matrix.ts', minutes: 20 },
  { name: 'fuzz', script: 'fuzz.ts', minutes: 30 },
  { name: 'corpus-mutations', script: 'corpus-mutations.ts', minutes: 150 },
  { name: 'memory', script: 'memory.ts', minutes: 20 },
  { name: 'load', script: 'load.ts', minutes: 60 },
  { name: 'faults', script: 'faults.ts', minutes: 90 },
  { name: 'soak', script: 'soak.ts', minutes: 75 },
];

const here = fileURLToPath(new URL('.', import.meta.url));

function runCheck(check: Check): Promise<{ ok: boolean; result?: unknown; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, check.script), ...(check.args ?? [])],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: process.env,
      },
    );
    let result: unknown;
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) result = JSON.parse(line.slice('RESULT '.length));
    });
    const bound = setTimeout(() => child.kill('SIGKILL'), check.minutes * 60_000);
    child.on('exit', (code) => {
      clearTimeout(bound);
      resolve({ ok: code === 0, result, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--only');
  const only = i > 0 ? process.argv[i + 1]!.split(',') : undefined;
  const checks = CHECKS.filter((c) => !only || only.includes(c.name));
  if (checks.length === 0)
    throw new Error(`no such check; the checks are ${CHECKS.map((c) => c.name).join(', ')}`);
  const report: Record<string, unknown> = {};
  let failed = 0;
  for (const check of checks) {
    console.error(`\n== ${check.name} (bound ${check.minutes} min)`);
    const outcome = await runCheck(check);
    report[check.name] = outcome;
    if (!outcome.ok) failed++;
    console.error(`== ${check.name}: ${outcome.ok ? 'held' : 'FAILED'} in ${outcome.seconds} s`);
  }
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  console.error(`\nreport: ${file}; ${failed} of ${checks.length} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
