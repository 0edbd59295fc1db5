import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCsvImport } from '../../src/cli/import/run-import-csv.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { Child } from '../support/child.js';
import { targets } from '../support/databases.js';
import { KEYS, startService, type TestService } from '../support/service.js';

const HEADER = 'coach_id,title,content,document_type,access_tier,tags,author,publication_date';
const CSV =
  `\uFEFF${HEADER}\r\n` +
  `carnivore,Liver,"Liver is dense.\r\nSecond line.",research,free,organ,Ann,2024-01-31\r\n` +
  `carnivore,Bad type,Some text,essay,free,,,\r\n` +
  `carnivore,Short row,Only four\r\n` +
  `carnivore,Eggs,Eggs are cheap.,guide,premium,"eggs,cheap",,\r\n`;

const dir = mkdtempSync(join(tmpdir(), 'docsvc-csv-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docsvc import-csv over HTTP, against the running embedded service', () => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService('pglite')));
  afterAll(() => svc?.close());
  const run = (path: string) =>
    Child.runCli(['import-csv', path, '--url', svc.base, '--json'], { DOCSVC_API_KEY: KEYS.admin });

  it('imports the good rows, lists the bad ones by line and code, exits 1; a second run adds nothing', async () => {
    const path = file('library.csv', CSV);
    const first = await run(path);
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ imported: 2, duplicates: 0 });
    expect(report.failed.map((f: { line: number; code: string }) => [f.line, f.code])).toEqual([
      [4, 'VALIDATION_FAILED'],
      [5, 'VALIDATION_FAILED'],
    ]);
    const events = await svc.countEvents();
    const second = JSON.parse((await run(path)).stdout);
    expect(second).toMatchObject({ imported: 0, duplicates: 2 });
    expect(await svc.countEvents()).toBe(events);
  }, 120_000);

  it('refuses an empty file as a whole with VALIDATION_FAILED and exit code 2', async () => {
    const result = await run(file('empty.csv', ''));
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('VALIDATION_FAILED');
  }, 120_000);

  it('exits 0 when every row was imported', async () => {
    const result = await run(file('good.csv', `${HEADER}\ncarnivore,Kidney,Kidney text.,guide,free,,,\n`));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 1, failed: [] });
  }, 120_000);
});

describe.each(targets())('docsvc import-csv on the database (%s)', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind)));
  afterAll(() => svc?.close());
  const context = () => ({
    db: svc.db.client,
    config: loadConfig({ ADMIN_API_KEY: 'cli-test-admin-key-0123456789' }),
  });

  it('imports the same rows as the service does, and nothing the second time', async () => {
    const path = file(`local-${kind}.csv`, CSV);
    const first = await runCsvImport(path, undefined, context());
    expect(first).toMatchObject({ imported: 2, duplicates: 0, target: 'the configured database' });
    expect(first.failed.map((f) => f.line)).toEqual([4, 5]);
    const events = await svc.countEvents();
    expect(await runCsvImport(path, undefined, context())).toMatchObject({ imported: 0, duplicates: 2 });
    expect(await svc.countEvents()).toBe(events);
  }, 120_000);

  it('refuses a file over the upload limit before reading it', async () => {
    const path = file(`big-${kind}.csv`, `${HEADER}\n${'x'.repeat(2048)}\n`);
    const config = loadConfig({ ADMIN_API_KEY: 'cli-test-admin-key-0123456789', MAX_UPLOAD_BYTES: '1024' });
    await expect(runCsvImport(path, undefined, { db: svc.db.client, config })).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
    });
  });
});
