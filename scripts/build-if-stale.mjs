#!/usr/bin/env node
/**
 * `npm start` and `npm run migrate` compile only when the build is stale: when a file under src/ or a tsconfig
 * or package.json is newer than dist/.build-stamp (a directory's own time catches added, removed and renamed
 * files). A full `tsc` type-checks everything and takes long; a current build starts at once.
 * `--always` (npm run build) compiles regardless. Migrations are read from the package at run time, not
 * compiled, so they do not make the build stale.
 */
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** The latest modification time of a file, or of a folder and everything in it. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stat.mtimeMs);
}

function stale() {
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', 'src', 'main.js'))) return 'no build yet';
  const built = statSync(stamp).mtimeMs;
  const changed = inputs.find((input) => newest(join(root, input)) > built);
  return changed && `${changed} changed since the last build`;
}

const reason = process.argv.includes('--always') ? 'asked to' : stale();
if (reason) {
  process.stderr.write(`docsvc: compiling (${reason})\n`);
  // The stamp takes the time the compilation started: a file saved meanwhile makes the next start compile.
  const started = new Date();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
