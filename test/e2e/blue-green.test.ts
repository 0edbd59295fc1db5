import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createApp } from '../../src/app/bootstrap.js';
import type { SqlClient } from '../../src/infrastructure/sql/sql-client.js';
import { DEFAULT_VECTOR_INDEX, vectorIndexName } from '../../src/projections/chunks/vector-index.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

const KEY = 'admin-key-0123456789abcdef';

/** One service process's app on the test database (PGlite: the shared client, kept open when the app closes). */
async function start(db: TestDatabase, kind: string, env: Record<string, string>) {
  const client =
    kind === 'pglite'
      ? Object.assign(Object.create(db.client) as SqlClient, { close: async () => undefined })
      : undefined;
  const app: INestApplication = await createApp(
    loadConfig({
      ...(kind === 'postgres' ? db.env : {}),
      ADMIN_API_KEY: KEY,
      LOG_LEVEL: 'fatal',
      PROJECTOR_POLL_MS: '50',
      QUERY_CACHE_TTL_SECONDS: '0',
      VECTOR_INDEX_MIN_CHUNKS: '0', // the vector indexes from the first chunk: which exist is checked below
      ...env,
    }),
    client,
  );
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(json ? { 'content-type': 'application/json' } : {}) },
      body: json ? JSON.stringify(json) : undefined,
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { results?: unknown[] },
    };
  };
  return { app, call };
}

const chunksVersions = (call: Awaited<ReturnType<typeof start>>['call']) =>
  call('GET', '/admin/projections').then((r) =>
    (r.body as unknown as Array<{ name: string; version: number; status: string }>).filter(
      (p) => p.name === 'chunks',
    ),
  );

describe.each(targets())('a blue/green switch of the embedding configuration on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => (db = await openTestDatabase(kind, { migrate: false })));
  afterAll(() => db?.drop());

  it('keeps answering from the live version while the new one builds, then switches and drops the old', async () => {
    const blue = await start(db, kind, { EMBEDDINGS_DIMENSIONS: '256' });
    let last = '';
    for (let i = 0; i < 30; i++) {
      const r = await blue.call('POST', '/documents', {
        coachId: 'c',
        title: `Protein note ${i}`,
        // ~30 chunks each, so that building a new version of them takes a while
        content:
          `# Protein ${i}\n\n` +
          Array.from({ length: 600 }, (_, j) => `Leucine and whey protein after training, ${i}.${j}.`).join(
            ' ',
          ),
        format: 'markdown',
        metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
      });
      last = String(r.body.position);
    }
    const query = { coachId: 'c', query: 'whey protein leucine', k: 5 };
    expect((await blue.call('POST', '/search', { ...query, minPosition: last })).body.results).toHaveLength(
      5,
    );
    const [blueVersion] = await chunksVersions(blue.call);
    await blue.app.close();

    // Green: another dimension, so another embedding space and another version of the chunks. Small batches
    // make its build take a while; searches run the whole time.
    const green = await start(db, kind, { EMBEDDINGS_DIMENSIONS: '384', PROJECTOR_BATCH_SIZE: '1' });
    const statuses: string[] = [];
    let greenVersion: { version: number; status: string } | undefined;
    for (let i = 0; i < 2000 && greenVersion?.status !== 'live'; i++) {
      const r = await green.call('POST', '/search', query);
      expect(r.status).toBe(200);
      expect(r.body.results!.length).toBe(5);
      greenVersion = (await chunksVersions(green.call)).find((p) => p.version !== blueVersion!.version);
      statuses.push(greenVersion?.status ?? 'not_started');
    }
    expect(statuses).toContain('building');
    expect(greenVersion?.status).toBe('live');

    // A write during or after the switch is read back (minPosition) from the version that serves.
    const up = await green.call('POST', '/documents', {
      coachId: 'c',
      title: 'Casein at night',
      content: 'Casein before sleep for overnight muscle protein synthesis.',
      format: 'text',
      metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
    });
    const after = await green.call('POST', '/search', {
      ...query,
      query: 'casein sleep',
      minPosition: up.body.position,
    });
    expect(after.body.results![0]).toMatchObject({ title: 'Casein at night' });

    const versions = await chunksVersions(green.call);
    expect(versions.find((p) => p.version === blueVersion!.version)?.status).toBe('retired');
    const spaces = await db.client.query<{ space: string; chunker: string }>(
      'SELECT DISTINCT space, chunker FROM chunks',
    );
    expect(spaces.rows.map((r) => r.space)).toEqual(['local:lexhash-v1:384']);
    // The new version's two vector indexes (current and past chunks), and none of the old one's.
    const indexes = await db.client.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'chunks' AND indexname LIKE 'chunks_vec_%'
       ORDER BY indexname`,
    );
    const green384 = vectorIndexName(DEFAULT_VECTOR_INDEX, 'local:lexhash-v1:384', spaces.rows[0]!.chunker);
    expect(indexes.rows.map((r) => r.name)).toEqual([green384, `${green384}_past`]);
    await green.app.close();
  }, 120_000);
});
