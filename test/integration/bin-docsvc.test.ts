import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mallocAdvice } from '../../src/cli/malloc-advice.js';

/**
 * bin/docsvc, the command npm installs and `npm start` runs, in front of a stand-in for the build (a main.js that
 * reports what it was started with), reached through a symbolic link as npm links it into node_modules/.bin.
 */
describe('bin/docsvc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docsvc-bin-'));
  const link = join(dir, 'node_modules/.bin/docsvc');
  const run = (args: string[], env: Record<string, string> = {}) => {
    const { MALLOC_ARENA_MAX: _, ...inherited } = process.env;
    // The stand-in's node is this test's node, first on PATH.
    const PATH = `${dirname(process.execPath)}:${inherited.PATH ?? ''}`;
    const result = spawnSync(link, args, { encoding: 'utf8', env: { ...inherited, PATH, ...env } });
    return { ...result, seen: result.stdout ? JSON.parse(result.stdout) : undefined };
  };

  beforeAll(() => {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist/src'), { recursive: true });
    mkdirSync(dirname(link), { recursive: true });
    copyFileSync('bin/docsvc', join(dir, 'bin/docsvc'));
    chmodSync(join(dir, 'bin/docsvc'), 0o755);
    writeFileSync(
      join(dir, 'dist/src/main.js'),
      `process.stdout.write(JSON.stringify({ arenas: process.env.MALLOC_ARENA_MAX ?? null,
         args: process.argv.slice(2), pid: process.pid }));
       process.exitCode = process.argv.includes('fail') ? 7 : 0;`,
    );
    symlinkSync(join(dir, 'bin/docsvc'), link);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the build with two malloc arenas and the arguments as given, in its own process', () => {
    const result = run(['import', 'a folder/with spaces', '--json']);
    expect(result.status).toBe(0);
    expect(result.seen).toEqual({
      arenas: '2',
      args: ['import', 'a folder/with spaces', '--json'],
      pid: result.pid,
    });
  });

  it("keeps the operator's own MALLOC_ARENA_MAX and passes the exit code on", () => {
    const result = run(['fail'], { MALLOC_ARENA_MAX: '4' });
    expect({ status: result.status, arenas: result.seen.arenas }).toEqual({ status: 7, arenas: '4' });
  });
});

describe('the advice serve logs without MALLOC_ARENA_MAX', () => {
  it('is given on glibc when the variable is not set, and only then', () => {
    expect(mallocAdvice({}, () => true)).toMatch(/MALLOC_ARENA_MAX is not set.*bin\/docsvc/);
    expect(mallocAdvice({ MALLOC_ARENA_MAX: '2' }, () => true)).toBeUndefined();
    expect(mallocAdvice({}, () => false)).toBeUndefined();
  });
});
