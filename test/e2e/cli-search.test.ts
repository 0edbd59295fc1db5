import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli.js';
import { runSearch } from '../../src/cli/search-command.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

describe.each(targets())('docsvc search on %s', (kind) => {
  let svc: TestService;
  let documentId: string;
  beforeAll(async () => {
    svc = await startService(kind);
    const up = await svc.request('POST', '/documents', {
      json: {
        coachId: 'carnivore',
        title: 'Electrolytes',
        content: '# Salt\n\nSodium and potassium matter on a ketogenic diet.',
        format: 'markdown',
        metadata: { documentType: 'guide', tags: ['keto'], accessTier: 'premium' },
      },
    });
    documentId = up.body.documentId;
    await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'x', minPosition: up.body.position },
    });
  });
  afterAll(() => svc?.close());

  const options = { coach: 'carnivore', k: '5', mode: 'hybrid' };

  it('prints the passages with score, title, version and section, and gives them as data (what --json prints)', async () => {
    const out = await runSearch(loadConfig({}), 'sodium potassium', options, svc.db.client);
    expect(out.human).toMatch(/^1\. \d\.\d{4} {2}Electrolytes \(v1, § Salt\) /);
    expect(out.data.results[0]).toMatchObject({ documentId, section: 'Salt' });
  });

  it('searches the live chunks while another chunk configuration is still to be built, as POST /search does', async () => {
    // Another chunker configuration is another chunks version: nothing is built for it here.
    const next = loadConfig({ CHUNK_TARGET_TOKENS: '128', CHUNK_OVERLAP_TOKENS: '16' });
    const out = await runSearch(next, 'sodium potassium', options, svc.db.client);
    expect(out.data.results[0]).toMatchObject({ documentId, section: 'Salt' });
  });

  it("goes through POST /search's query: its answer is kept in the query cache, and a repeat is answered from it", async () => {
    const cached = async () =>
      (await svc.db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM rag_query_cache')).rows[0]!.n;
    const before = await cached();
    const first = await runSearch(loadConfig({}), 'ketogenic sodium', options, svc.db.client);
    expect(await cached()).toBe(before + 1);
    const again = await runSearch(loadConfig({}), 'ketogenic sodium', options, svc.db.client);
    expect(await cached()).toBe(before + 1);
    expect(again.data).toEqual(first.data);
  });

  it('answers as a free reader with --free-only, and filters by tag', async () => {
    const free = await runSearch(loadConfig({}), 'sodium', { ...options, freeOnly: true }, svc.db.client);
    expect(free.data.results).toEqual([]);
    expect(free.human).toBe('no results');
    const tagged = await runSearch(loadConfig({}), 'sodium', { ...options, tag: ['other'] }, svc.db.client);
    expect(tagged.data.results).toEqual([]);
  });
});

describe('docsvc search arguments', () => {
  it('exits 2 with a message naming the argument for a bad mode or k, before touching a database', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (
      errors.push(String(chunk)),
      true
    )) as typeof process.stderr.write;
    // The embedded database would be created under DATA_DIR on first use.
    const dataDir = join(tmpdir(), `docsvc-cli-untouched-${process.pid}`);
    const before = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };
    process.env.DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
    try {
      const code = await runCli(['node', 'docsvc', 'search', 'x', '--coach', 'c', '--mode', 'semantic']);
      const codeK = await runCli(['node', 'docsvc', 'search', 'x', '--coach', 'c', '--k', '500']);
      const missing = await runCli(['node', 'docsvc', 'search', 'x']);
      expect([code, codeK, missing]).toEqual([2, 2, 2]);
    } finally {
      process.stderr.write = write;
      for (const [name, value] of Object.entries(before))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
    expect(existsSync(dataDir)).toBe(false);
    expect(errors.join('')).toMatch(/arguments\.mode/);
    expect(errors.join('')).toMatch(/arguments\.k/);
  });
});
