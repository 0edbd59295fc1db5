import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** scripts/build-if-stale.mjs on a project of one file, with this checkout's TypeScript. */
describe('npm start compiles only a stale build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docsvc-build-'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(dir, 'scripts/build-if-stale.mjs'), ...args], { encoding: 'utf8' });
  const setTime = (path: string, hoursAgo: number) => {
    const at = new Date(Date.now() - hoursAgo * 3600_000);
    utimesSync(join(dir, path), at, at);
  };
  const inputs = ['src', 'src/main.ts', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
  /** A file saved after the last build (which is made an hour old; the other inputs are older still). */
  const edit = (path: string) => {
    for (const input of inputs) setTime(input, 2);
    setTime('dist/.build-stamp', 1);
    setTime(path, 0);
  };

  beforeAll(() => {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    copyFileSync('scripts/build-if-stale.mjs', join(dir, 'scripts/build-if-stale.mjs'));
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const options = { module: 'NodeNext', target: 'ES2023', outDir: 'dist', rootDir: '.', types: [] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options }));
    writeFileSync(join(dir, 'tsconfig.build.json'), '{"extends":"./tsconfig.json","include":["src"]}');
    writeFileSync(join(dir, 'src/main.ts'), 'export const answer: number = 42;\n');
    for (const input of inputs) setTime(input, 2);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles the first time, not when nothing changed, and again after a source or tsconfig changes', () => {
    expect(run().stderr).toMatch(/compiling \(no build yet\)/);
    expect(existsSync(join(dir, 'dist/src/main.js'))).toBe(true);
    expect(run()).toMatchObject({ status: 0, stderr: '' });
    edit('src/main.ts');
    expect(run().stderr).toMatch(/compiling \(src changed/);
    expect(run().stderr).toBe('');
    edit('tsconfig.build.json');
    expect(run().stderr).toMatch(/compiling \(tsconfig.build.json changed/);
  }, 120_000);

  it('fails with the compiler when the code does not compile, and compiles again on the next start', () => {
    writeFileSync(join(dir, 'src/main.ts'), 'export const answer: number = "not a number";\n');
    edit('src/main.ts');
    expect(run().status).not.toBe(0);
    expect(run().status).not.toBe(0);
  }, 120_000);
});
