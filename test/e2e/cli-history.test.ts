import { runCli } from '../../src/cli/cli.js';
import { runHistory, runRebuild, runRollback } from '../../src/cli/history-commands.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

// A key of its own, so that the CLI's application context does not generate one in ./data.
const CONFIG = { ADMIN_API_KEY: 'cli-test-admin-key-0123456789' };

describe.each(targets())('docsvc history, rollback and rebuild on %s', (kind) => {
  let svc: TestService;
  let id: string;
  beforeAll(async () => {
    svc = await startService(kind);
    const up = await svc.request('POST', '/documents', {
      json: {
        coachId: 'carnivore',
        title: 'Organ meats',
        content: '# Liver\n\nBeef liver is rich in retinol.',
        format: 'markdown',
        metadata: { documentType: 'guide', tags: ['organ'], accessTier: 'free' },
      },
    });
    id = up.body.documentId;
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: '# Liver\n\nBeef liver is rich in retinol and copper.', changeSummary: 'copper' },
    });
  });
  afterAll(() => svc?.close());

  it('prints the versions, one line each, or JSON', async () => {
    const out = await runHistory(loadConfig(CONFIG), id, svc.db.client);
    const lines = out.human.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^v1 {2}\S+ {2}uploaded/);
    expect(lines[1]).toMatch(/^v2 .* edited .*"copper"$/);
    expect(out.data.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('rolls back as the CLI user, and says so when nothing changes', async () => {
    const out = await runRollback(loadConfig(CONFIG), id, 1, 'wrong edit', svc.db.client);
    expect(out.data).toMatchObject({ documentId: id, version: 3 });
    const doc = await svc.request('GET', `/documents/${id}`);
    expect(doc.body).toMatchObject({ version: 3, content: '# Liver\n\nBeef liver is rich in retinol.' });
    const versions = await svc.request('GET', `/documents/${id}/versions`);
    expect(versions.body.versions[2]).toMatchObject({ change: 'rolled_back', changeSummary: 'wrong edit' });
    expect(versions.body.versions[2].actor).toMatch(/^cli:/);
    const again = await runRollback(loadConfig(CONFIG), id, 1, undefined, svc.db.client);
    expect(again.human).toMatch(/nothing written/);
    expect(await svc.countEvents()).toBe(3);
  });

  it('rebuilds the chunks and follows the rebuild until it is live again', async () => {
    const lines: string[] = [];
    const out = await runRebuild(loadConfig(CONFIG), 'chunks', (line) => lines.push(line), {
      db: svc.db.client,
      timeoutMs: 60_000,
    });
    expect(out.data.rebuilt).toHaveLength(1);
    expect(out.data.rebuilt[0]).toMatchObject({ name: 'chunks', status: 'live', lag: 0 });
    expect(lines.at(-1)).toBe('chunks: rebuilt');
    const search = await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'liver retinol' },
    });
    expect(search.body.results[0]).toMatchObject({ documentId: id, version: 3 });
  });

  it('rebuilds a projection that has never run (no checkpoint yet) and finishes', async () => {
    // A service that does not project: the chunks projection has no checkpoint when the rebuild is asked for.
    const api = await startService(kind, { PROJECTOR_ENABLED: 'false' });
    try {
      const up = await api.request('POST', '/documents', {
        json: {
          coachId: 'carnivore',
          title: 'Bone broth',
          content: 'Bone broth gives glycine and collagen.',
          metadata: { documentType: 'guide', accessTier: 'free' },
        },
      });
      expect(up.status).toBe(201);
      const out = await runRebuild(loadConfig(CONFIG), 'chunks', () => undefined, {
        db: api.db.client,
        timeoutMs: 30_000,
      });
      expect(out.data.rebuilt[0]).toMatchObject({ name: 'chunks', status: 'live', lag: 0 });
    } finally {
      await api.close();
    }
  });

  it('exits 2 for a bad document id or version; an unknown document is NOT_FOUND', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (
      errors.push(String(chunk)),
      true
    )) as typeof process.stderr.write;
    try {
      expect(await runCli(['node', 'docsvc', 'history', 'not-a-uuid'])).toBe(2);
      expect(await runCli(['node', 'docsvc', 'rollback', id, 'zero'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toMatch(/UUID/);
    await expect(
      runHistory(loadConfig(CONFIG), '00000000-0000-4000-8000-000000000000', svc.db.client),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
