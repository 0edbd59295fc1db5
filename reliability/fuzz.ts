/**
 * `tsx reliability/fuzz.ts [--runs 3000]`: the hostile-input fuzzer's long run (RELIABILITY.md, "Hostile input").
 * The property is the one `npm test` runs 150 times (test/e2e/hostile-input.property.test.ts: every operation of
 * the OpenAPI document, path parameters, JSON bodies, query strings and headers; no 500, no SQL or stack text, no
 * leak across coach or tier), run here `--runs` times on each target (PGlite, PostgreSQL with TEST_DATABASE_URL,
 * EventStoreDB through its stand-in) through Jest, which owns the in-process service and the assertions.
 * Prints `RESULT {json}` with the requests and statuses per target; exits 1 when the property failed.
 */
import { spawn } from 'node:child_process';
import { arg } from '../bench/support.js';

const runs = Number(arg('runs', '3000'));
const jest = spawn(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--runInBand',
    'test/e2e/hostile-input.property.test.ts',
  ],
  { env: { ...process.env, FUZZ_RUNS: String(runs) }, stdio: ['ignore', 'inherit', 'pipe'] },
);
let err = '';
jest.stderr.on('data', (chunk: Buffer) => {
  err += chunk.toString();
  process.stderr.write(chunk);
});
const code = await new Promise<number | null>((resolve) => jest.on('exit', resolve));
// The test prints one line per target: "hostile input on <target>: <n> requests, statuses {…}".
const targets = Object.fromEntries(
  [...err.matchAll(/hostile input on (\w+): (\d+) requests, statuses (\{[^}]*\})/g)].map((m) => [
    m[1],
    { requests: Number(m[2]), statuses: JSON.parse(m[3]!) as Record<string, number> },
  ]),
);
const ok = code === 0 && Object.keys(targets).length > 0;
process.stdout.write(`RESULT ${JSON.stringify({ ok, runsPerTarget: runs, targets })}\n`);
process.exitCode = ok ? 0 : 1;
