import pg from 'pg';
import { runRebuild } from '../../src/cli/history-commands.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

// A key of its own, so that the CLI's application context does not generate one in ./data.
const CLI_CONFIG = { ADMIN_API_KEY: 'cli-test-admin-key-0123456789' };
const meta = { documentType: 'guide', tags: ['a'], accessTier: 'free' };

/** The inline read models (documents, document_versions) rebuild from the events with the service up. */
describe.each(targets())('rebuilding the inline read models on %s', (kind) => {
  let svc: TestService;
  const ids: string[] = [];
  const dump = async () => ({
    documents: (await svc.db.client.query('SELECT * FROM documents ORDER BY document_id')).rows,
    versions: (await svc.db.client.query('SELECT * FROM document_versions ORDER BY document_id, version'))
      .rows,
  });
  const corrupt = async () => {
    await svc.db.client.query(`UPDATE documents SET title = 'corrupt', version = 99 WHERE document_id = $1`, [
      ids[0],
    ]);
    await svc.db.client.query(
      `UPDATE document_versions SET content = 'corrupt' WHERE document_id = $1 AND version = 1`,
      [ids[0]],
    );
    await svc.db.client.query(`DELETE FROM document_versions WHERE document_id = $1 AND version = 2`, [
      ids[1],
    ]);
  };

  beforeAll(async () => {
    svc = await startService(kind);
    for (const [i, tier] of ['free', 'premium', 'free'].entries()) {
      const r = await svc.request('POST', '/documents', {
        json: {
          coachId: 'carnivore',
          title: `Doc ${i}`,
          content: `Text ${i}.`,
          metadata: { ...meta, accessTier: tier },
        },
      });
      ids.push(r.body.documentId);
    }
    await svc.request('PATCH', `/documents/${ids[0]}`, {
      json: { content: 'Text 0, edited.', changeSummary: 's' },
    });
    await svc.request('POST', `/documents/${ids[0]}/rollback`, { json: { toVersion: 1, reason: 'back' } });
    await svc.request('DELETE', `/documents/${ids[1]}`);
    await svc.request('POST', `/documents/${ids[2]}/erase`, { json: { reason: 'asked' } });
  });
  afterAll(() => svc?.close());

  it('are listed, and a corrupted row comes back as replayed, through the route and through the CLI', async () => {
    const list = await svc.request('GET', '/admin/projections');
    const inline = list.body
      .filter((p: { kind: string }) => p.kind === 'inline')
      .map((p: { name: string }) => p.name);
    expect(inline.sort()).toEqual(['document_versions', 'documents']);
    const live = await dump();
    expect(live.versions.length).toBeGreaterThan(5);

    await corrupt();
    expect(await dump()).not.toEqual(live);
    for (const name of ['documents', 'document_versions']) {
      const r = await svc.request('POST', `/admin/projections/${name}/rebuild`);
      expect(r).toMatchObject({ status: 202, body: { name, status: 'rebuilt' } });
    }
    expect(await dump()).toEqual(live);

    await corrupt();
    for (const name of ['documents', 'document_versions']) {
      const lines: string[] = [];
      const out = await runRebuild(loadConfig(CLI_CONFIG), name, (line) => lines.push(line), {
        db: svc.db.client,
      });
      expect(out.data.rebuilt).toEqual([expect.objectContaining({ name, kind: 'inline' })]);
      expect(lines.at(-1)).toBe(`${name}: rebuilt`);
    }
    expect(await dump()).toEqual(live);
    // The service reads the rebuilt model.
    expect((await svc.request('GET', `/documents/${ids[0]}`)).body).toMatchObject({
      title: 'Doc 0',
      version: 3,
    });
    expect((await svc.request('POST', '/admin/projections/documents/rebuild', { as: 'editor' })).status).toBe(
      403,
    );
  });

  it('keeps every write that commits while the rebuild runs', async () => {
    const before = (await svc.db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))
      .rows[0]!.n;
    const writes = Array.from({ length: 6 }, (_, i) =>
      svc.request('POST', '/documents', {
        json: {
          coachId: 'carnivore',
          title: `Concurrent ${i}`,
          content: `Concurrent text ${i}.`,
          metadata: meta,
        },
      }),
    );
    const rebuilds = ['documents', 'document_versions', 'documents'].map((name) =>
      svc.request('POST', `/admin/projections/${name}/rebuild`),
    );
    const results = await Promise.all([...writes, ...rebuilds]);
    expect(results.map((r) => r.status)).toEqual([...writes.map(() => 201), ...rebuilds.map(() => 202)]);
    const { rows } = await svc.db.client.query<{ events: number; versions: number; documents: number }>(
      `SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM document_versions) AS versions,
              (SELECT count(*)::int FROM documents) AS documents`,
    );
    expect(rows[0]).toEqual({ events: before + 6, versions: before + 6, documents: ids.length + 6 });
  });

  if (kind === 'postgres') {
    // PostgreSQL only: PGlite is one session, so no other transaction can be open while the rebuild runs.
    it('replays a write that committed while an older transaction is still open', async () => {
      const other = new pg.Client({ connectionString: svc.db.env.DATABASE_URL });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('SELECT pg_current_xact_id()'); // an open transaction older than the write below
        const up = await svc.request('POST', '/documents', {
          json: {
            coachId: 'carnivore',
            title: 'Late',
            content: 'Committed behind an open transaction.',
            metadata: meta,
          },
        });
        expect(up.status).toBe(201);
        expect((await svc.request('POST', '/admin/projections/documents/rebuild')).status).toBe(202);
        expect((await svc.request('GET', `/documents/${up.body.documentId}`)).body).toMatchObject({
          title: 'Late',
        });
      } finally {
        await other.query('ROLLBACK');
        await other.end();
      }
    });
  }
});
