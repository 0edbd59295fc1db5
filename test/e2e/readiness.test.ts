import { DatabaseSizeLimit } from '../../src/infrastructure/health/readiness-check.js';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import { targets } from '../support/databases.js';
import { startService, type Reply, type TestService } from '../support/service.js';

const doc = (title: string, content: string) => ({
  coachId: 'carnivore',
  title,
  content,
  format: 'text',
  metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
});

/** Words that neither compress nor repeat much: an upload that grows the database by about its size. */
function noise(bytes: number): string {
  const words: string[] = [];
  for (let n = 0, i = 1; n < bytes; i++) {
    const word = ((i * 2654435761) >>> 0).toString(36);
    words.push(word);
    n += word.length + 1;
  }
  return words.join(' ');
}

/**
 * Readiness once the event store's head has reached `position`. On a PostgreSQL server shared with other work, a
 * long transaction anywhere holds the global order's horizon back (architecture.md), and a write stays out of the
 * head, the lags and the projector's reach until it ends: the condition is waited for, with a deadline.
 */
async function readyAt(svc: TestService, position: string): Promise<Reply> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await svc.request('GET', '/health/ready');
    if (r.body.checks.eventStore.head === position || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(targets())('GET /health/ready on %s', (kind) => {
  describe('checks of a running service', () => {
    let svc: TestService;
    beforeAll(async () => {
      svc = await startService(kind);
    });
    afterAll(() => svc?.close());

    it('reports the event store head, the counts and the search indexes, without a key', async () => {
      const written = await svc.request('POST', '/documents', { json: doc('Liver', 'Liver is dense.') });
      const retired = await svc.request('POST', '/documents', { json: doc('Eggs', 'Eggs are cheap.') });
      const retire = await svc.request('DELETE', `/documents/${retired.body.documentId}`);
      expect(retire.status).toBe(200);
      const { position } = retire.body;
      await svc.app.get(ProjectionEngine).waitUntilCaughtUp({ position, timeoutMs: 60_000 });
      const r = await svc.request('GET', '/health/ready', { as: 'none' });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('ok');
      const { eventStore, documents, chunks, searchIndexes, databaseSize } = r.body.checks;
      expect(eventStore).toMatchObject({ status: 'ok', head: position });
      expect(written.status).toBe(201);
      expect(documents).toEqual({
        status: 'ok',
        total: 2,
        byStatus: { active: 1, retired: 1, erased: 0 },
        estimated: false,
      });
      expect(chunks).toMatchObject({ status: 'ok', current: 1, total: 2, estimated: false });
      // The default VECTOR_INDEX_MIN_CHUNKS is far above one chunk: no vector index, on purpose.
      expect(searchIndexes.status).toBe('ok');
      expect(searchIndexes.vector).toMatchObject({ state: 'not_needed', currentChunks: 1, indexes: [] });
      expect(searchIndexes.vector.note).toMatch(/absent by design/);
      expect(searchIndexes.text.indexes).toEqual([
        { name: 'chunks_tsv', valid: true, sizeBytes: expect.any(Number) },
        { name: 'chunks_tsv_past', valid: true, sizeBytes: expect.any(Number) },
      ]);
      expect(databaseSize).toMatchObject({ status: 'ok', limitBytes: 10 * 1024 ** 3 });
      expect(databaseSize.bytes).toBeGreaterThan(0);
      expect(databaseSize.warning).toBeUndefined();
    });
  });

  describe('the vector index once the corpus reaches VECTOR_INDEX_MIN_CHUNKS', () => {
    let svc: TestService;
    beforeAll(async () => {
      svc = await startService(kind, { VECTOR_INDEX_MIN_CHUNKS: '1' });
    });
    afterAll(() => svc?.close());

    it('reports it valid, with its size', async () => {
      const { position } = (
        await svc.request('POST', '/documents', { json: doc('Liver', 'Liver is dense.') })
      ).body;
      await svc.app.get(ProjectionEngine).waitUntilCaughtUp({ position, timeoutMs: 60_000 });
      const { searchIndexes } = (await svc.request('GET', '/health/ready')).body.checks;
      expect(searchIndexes.status).toBe('ok');
      expect(searchIndexes.vector.state).toBe('valid');
      expect(searchIndexes.vector.indexes).toHaveLength(2);
      for (const index of searchIndexes.vector.indexes) {
        expect(index).toEqual({
          name: expect.stringMatching(/^chunks_vec_hnsw_/),
          valid: true,
          sizeBytes: expect.any(Number),
        });
        expect(index.sizeBytes).toBeGreaterThan(0);
      }
    });

    it('turns degraded when an index is invalid, as an interrupted concurrent build leaves it', async () => {
      const [current] = (await svc.request('GET', '/health/ready')).body.checks.searchIndexes.vector.indexes;
      const mark = (valid: boolean) =>
        svc.db.client.query(`UPDATE pg_index SET indisvalid = $2 WHERE indexrelid = $1::regclass`, [
          current.name,
          valid,
        ]);
      await mark(false);
      try {
        const r = await svc.request('GET', '/health/ready');
        expect(r.status).toBe(200);
        expect(r.body.status).toBe('degraded');
        const { searchIndexes } = r.body.checks;
        expect(searchIndexes).toMatchObject({ status: 'degraded', invalid: [current.name] });
        expect(searchIndexes.vector.state).toBe('invalid');
        expect(searchIndexes.reason).toBe(`index ${current.name} is invalid`);
      } finally {
        await mark(true);
      }
      expect((await svc.request('GET', '/health/ready')).body.status).toBe('ok');
    });
  });

  describe('projector lag against HEALTH_MAX_PROJECTOR_LAG', () => {
    let svc: TestService;
    beforeAll(async () => {
      // No projector in this process until the test starts it: every upload adds one event of lag.
      svc = await startService(kind, { PROJECTOR_ENABLED: 'false', HEALTH_MAX_PROJECTOR_LAG: '2' });
    });
    afterAll(() => svc?.close());

    const chunksLag = (r: {
      body: { checks: { projections: { items: Array<{ name: string; lag: number }> } } };
    }) => r.body.checks.projections.items.find((p) => p.name === 'chunks')!.lag;

    it('turns degraded past the threshold, with the figures, and recovers once caught up', async () => {
      const write = async (title: string) =>
        (await svc.request('POST', '/documents', { json: doc(title, `${title}.`) })).body.position as string;
      await write('One');
      const atLimit = await readyAt(svc, await write('Two'));
      expect(chunksLag(atLimit)).toBe(2);
      expect(atLimit.body.checks.projections.status).toBe('ok');
      expect(atLimit.body.status).toBe('ok');

      const last = await write('Three');
      const behind = await readyAt(svc, last);
      expect(behind.status).toBe(200); // degraded is not down: the service still answers
      expect(behind.body).toMatchObject({ status: 'degraded', ready: true });
      expect(behind.body.checks.projections).toMatchObject({ status: 'degraded', maxLag: 2 });
      expect(behind.body.checks.projections.reason).toBe('chunks is 3 events behind (more than 2)');
      expect(chunksLag(behind)).toBe(3);

      const engine = svc.app.get(ProjectionEngine);
      engine.start();
      expect(await engine.waitUntilCaughtUp({ position: last, timeoutMs: 60_000 })).toBe(true);
      const caughtUp = await svc.request('GET', '/health/ready');
      expect(chunksLag(caughtUp)).toBe(0);
      expect(caughtUp.body.checks.projections.status).toBe('ok');
      expect(caughtUp.body.status).toBe('ok');
    });
  });

  describe('database size against DATABASE_SIZE_LIMIT_BYTES', () => {
    let svc: TestService;
    beforeAll(async () => {
      // Without a projector: the growth is the upload's own (its events and file), not its chunks still coming.
      svc = await startService(kind, { PROJECTOR_ENABLED: 'false' });
    });
    afterAll(() => svc?.close());

    const size = async () => (await svc.request('GET', '/health/ready')).body.checks.databaseSize;

    it('warns near the limit, is degraded once the data grows past it, and recovers when it is raised', async () => {
      // The limit is read through its provider at every check: the operator's raise, without a restart.
      const limit = svc.app.get(DatabaseSizeLimit);
      const start = (await size()).bytes as number;

      limit.bytes = Math.round(start / 0.85);
      const near = await size();
      expect(near.status).toBe('ok');
      expect(near.warning).toMatch(/^the database is 8\d(\.\d)? % of DATABASE_SIZE_LIMIT_BYTES$/);

      // Room for less than the upload below: its sealed events alone take about its size.
      limit.bytes = start + 256 * 1024;
      expect((await size()).status).toBe('ok');
      const form = new FormData();
      form.set('file', new Blob([noise(1024 * 1024)]), 'large.txt');
      form.set('coachId', 'carnivore');
      form.set('metadata', JSON.stringify({ documentType: 'guide', tags: [], accessTier: 'free' }));
      expect((await svc.request('POST', '/documents', { form })).status).toBe(201);
      const over = await svc.request('GET', '/health/ready');
      expect(over.status).toBe(200);
      expect(over.body.status).toBe('degraded');
      expect(over.body.checks.databaseSize).toMatchObject({ status: 'degraded', limitBytes: limit.bytes });
      expect(over.body.checks.databaseSize.bytes).toBeGreaterThan(limit.bytes);
      expect(over.body.checks.databaseSize.reason).toMatch(
        /^the database is \d+(\.\d)? % of DATABASE_SIZE_LIMIT_BYTES$/,
      );

      limit.bytes = 10 * 1024 ** 3;
      const raised = await size();
      expect(raised.status).toBe('ok');
      expect(raised.warning).toBeUndefined();
    });
  });
});
