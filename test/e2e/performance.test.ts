import { SQL_CLIENT, type SqlClient } from '../../src/infrastructure/sql/sql-client.js';
import { targets, type TargetKind } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

interface Recommendation {
  code: string;
  severity: string;
  message: string;
  evidence: Record<string, unknown>;
}

const doc = (title: string, content: string) => ({
  coachId: 'carnivore',
  title,
  content,
  format: 'markdown',
  metadata: { documentType: 'guide', tags: ['protein'], accessTier: 'free' },
});

/** Uploads the documents and waits until search has read them (minPosition). */
async function uploadAndWait(svc: TestService, docs: Array<ReturnType<typeof doc>>): Promise<void> {
  let position = '';
  for (const body of docs) {
    const r = await svc.request('POST', '/documents', { json: body });
    expect(r.status).toBe(201);
    position = r.body.position;
  }
  const r = await svc.request('POST', '/search', {
    json: { coachId: 'carnivore', query: 'protein', mode: 'text', minPosition: position },
  });
  expect(r.status).toBe(200);
}

/** The statements' source the database offers: pg_stat_statements only where the server preloads it. */
async function expectedSource(kind: TargetKind, sql: SqlClient): Promise<string> {
  if (kind === 'pglite') return 'service_timing';
  const { rows } = await sql.query<{ loaded: boolean }>(
    `SELECT 'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS loaded`,
  );
  return rows[0]!.loaded ? 'pg_stat_statements' : 'service_timing';
}

const report = async (svc: TestService, query = '') => {
  const r = await svc.request('GET', `/admin/performance${query}`);
  expect(r.status).toBe(200);
  return r.body as {
    source: string;
    sourceDetail: string;
    statements: Array<{ pattern: string; calls: number; totalMs: number; meanRows: number }>;
    recommendations: Recommendation[];
    checks: { vectorIndex: Record<string, unknown> & { recall: Record<string, number | boolean> | null } };
  };
};

/**
 * perf_probe with 5,000 rows its statistics count at once. A session publishes its pending counts when next idle,
 * and defers them up to ten seconds when it published less than a second ago: an ANALYZE in the inserting
 * transaction would count 0 live rows until then (and one in a later transaction 10,000 after), so the inserts'
 * counts are published first, and ANALYZE then sets the figure.
 */
async function createProbeTable(sql: SqlClient): Promise<void> {
  const session = await sql.session();
  try {
    await session.query(`CREATE TABLE perf_probe (id int PRIMARY KEY, owner text NOT NULL, note text)`);
    await session.query(
      `INSERT INTO perf_probe SELECT g, 'owner-' || (g % 50), 'note ' || g FROM generate_series(1, 5000) g`,
    );
    await session.query('SELECT pg_stat_force_next_flush()');
    await session.query('ANALYZE perf_probe');
  } finally {
    await session.release();
  }
}

const withCode = (recommendations: Recommendation[], code: string) =>
  recommendations.filter((r) => r.code === code);

describe.each(targets())('GET /admin/performance on %s', (kind) => {
  describe('statements and table advice', () => {
    let svc: TestService;
    let sql: SqlClient;

    beforeAll(async () => {
      // Every statement counts, so that the service's own timing has something to show.
      svc = await startService(kind, { SLOW_QUERY_MS: '0' });
      // The app's client: what goes through it is the service's own SQL, timed like the rest.
      sql = svc.app.get<SqlClient>(SQL_CLIENT);
      await uploadAndWait(svc, [doc('Protein', '# Protein\n\nMeat is rich in protein.')]);
      await createProbeTable(sql);
    });
    afterAll(() => svc?.close());

    it('answers 403 to keys that are not admin, 401 without a key', async () => {
      for (const as of ['editor', 'freeReader', 'premiumReader'] as const)
        expect((await svc.request('GET', '/admin/performance', { as })).status).toBe(403);
      expect((await svc.request('GET', '/admin/performance', { as: 'none' })).status).toBe(401);
    });

    it('is described in the OpenAPI document, and refuses a bad limit with VALIDATION_FAILED', async () => {
      const spec = (await svc.request('GET', '/openapi.json')).body;
      expect(spec.paths['/admin/performance'].get.responses['200']).toBeDefined();
      expect(spec.components.schemas.PerformanceReport.properties.source.enum).toEqual([
        'pg_stat_statements',
        'service_timing',
      ]);
      const bad = await svc.request('GET', '/admin/performance?limit=0');
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    });

    it('lists the statements grouped by pattern, from the source the database offers', async () => {
      // pg_stat_statements keeps pg_stat_statements.max entries for the whole server and evicts the least used:
      // after a few hundred test databases it is full, and two fresh calls could be evicted before they are read.
      if ((await expectedSource(kind, svc.db.client)) === 'pg_stat_statements') {
        await report(svc, '?limit=1&measureRecall=false'); // creates the extension in this database
        await sql.query('SELECT pg_stat_statements_reset()');
      }
      await sql.query(`SELECT count(*)::int AS n FROM documents WHERE coach_id = 'grouped-a'`);
      await sql.query(`SELECT count(*)::int AS n FROM documents WHERE coach_id = 'grouped-b'`);
      const body = await report(svc, '?limit=100&measureRecall=false');
      expect(body.source).toBe(await expectedSource(kind, svc.db.client));
      expect(body.sourceDetail).toEqual(expect.any(String));
      const grouped = body.statements.filter((s) => /FROM documents WHERE coach_id = \?/.test(s.pattern));
      expect(grouped).toEqual([expect.objectContaining({ calls: 2 })]);
      const totals = body.statements.map((s) => s.totalMs);
      expect(totals).toEqual([...totals].sort((a, b) => b - a));
    });

    it('recommends an index for a frequent filter read by sequential scans, until the column has one', async () => {
      const session = await sql.session();
      for (let i = 0; i < 30; i++)
        await session.query('SELECT id FROM perf_probe WHERE owner = $1', [`owner-${i % 50}`]);
      // A server session publishes its scan counts when next idle, at most once a second unless asked to.
      await session.query('SELECT pg_stat_force_next_flush()');
      await session.release();
      const [advice, ...more] = withCode((await report(svc)).recommendations, 'INDEX_FOR_FREQUENT_FILTER');
      expect(more).toEqual([]);
      expect(advice).toMatchObject({
        severity: 'warning',
        evidence: { table: 'perf_probe', columns: ['owner'], liveRows: 5000, idxScans: 0 },
      });
      expect(advice!.evidence.seqScans).toBeGreaterThanOrEqual(30);
      expect(advice!.evidence.statement).toMatch(/FROM perf_probe WHERE owner = \?/);

      await sql.exec('CREATE INDEX perf_probe_owner ON perf_probe (owner)');
      expect(withCode((await report(svc)).recommendations, 'INDEX_FOR_FREQUENT_FILTER')).toEqual([]);
    });

    it('recommends pagination for a statement that returns large results', async () => {
      for (let i = 0; i < 2; i++) await sql.query('SELECT id, owner FROM perf_probe');
      const advice = withCode((await report(svc)).recommendations, 'PAGINATE_LARGE_RESULTS').filter((r) =>
        /^SELECT id, owner FROM perf_probe$/.test(r.evidence.statement as string),
      );
      expect(advice).toEqual([
        expect.objectContaining({ evidence: expect.objectContaining({ meanRows: 5000, hasLimit: false }) }),
      ]);
    });

    it('does not recommend against a vector index that is absent below VECTOR_INDEX_MIN_CHUNKS', async () => {
      const body = await report(svc);
      expect(body.checks.vectorIndex).toMatchObject({ state: 'not_needed', recall: null });
      expect(withCode(body.recommendations, 'VECTOR_INDEX_MISSING')).toEqual([]);
    });
  });

  describe('the vector index', () => {
    let svc: TestService;
    let index: string;

    beforeAll(async () => {
      // The index from the first chunk on, so that a small corpus has one.
      svc = await startService(kind, { VECTOR_INDEX_MIN_CHUNKS: '0' });
      await uploadAndWait(svc, [
        doc('Protein', '# Protein\n\nMeat is rich in protein.\n\n## Dose\n\nAbout 1.6 g per kg a day.'),
        doc('Creatine', '# Creatine\n\nCreatine monohydrate raises phosphocreatine stores.'),
        doc('Sleep', '# Sleep\n\nDeep sleep supports muscle recovery after training.'),
      ]);
      index = (await report(svc, '?measureRecall=false')).checks.vectorIndex.name as string;
    });
    afterAll(() => svc?.close());

    it('measures the recall of a valid index against exact search', async () => {
      const body = await report(svc);
      expect(body.checks.vectorIndex).toMatchObject({ state: 'valid', kind: 'hnsw' });
      const chunks = body.checks.vectorIndex.currentChunks as number;
      expect(chunks).toBeGreaterThan(0);
      // ef_search (500) is above the corpus's size: the graph's search is exhaustive, so it finds every neighbour.
      expect(body.checks.vectorIndex.recall).toMatchObject({
        indexUsed: true,
        sampled: Math.min(20, chunks),
        k: 10,
        recall: 1,
      });
      expect(body.recommendations.filter((r) => r.code.startsWith('VECTOR_'))).toEqual([]);
    });

    it('recommends against an invalid vector index', async () => {
      // What an interrupted CREATE INDEX CONCURRENTLY leaves: the index, marked not valid.
      await svc.db.client.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = $1::regclass`, [
        index,
      ]);
      const body = await report(svc);
      expect(body.checks.vectorIndex).toMatchObject({ state: 'invalid', recall: null });
      expect(withCode(body.recommendations, 'VECTOR_INDEX_INVALID')).toEqual([
        expect.objectContaining({
          severity: 'critical',
          evidence: expect.objectContaining({ invalid: [index] }),
        }),
      ]);
    });

    it('recommends against a missing vector index where the corpus is large enough for one', async () => {
      await svc.db.client.exec(`DROP INDEX ${index}`);
      const body = await report(svc);
      expect(body.checks.vectorIndex).toMatchObject({ state: 'missing' });
      expect(withCode(body.recommendations, 'VECTOR_INDEX_MISSING')).toEqual([
        expect.objectContaining({
          severity: 'warning',
          evidence: expect.objectContaining({ missing: [index], minChunks: 0, projectorLag: 0 }),
        }),
      ]);
    });
  });
});
