import { randomUUID } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import type { MaintenanceReport, TaskReport } from '../../src/projections/maintenance/maintenance-report.js';
import { MAINTENANCE_LOCK } from '../../src/projections/maintenance/maintenance-runner.js';
import {
  MAINTENANCE_JOB,
  MaintenanceScheduler,
} from '../../src/projections/maintenance/maintenance.scheduler.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const meta = { documentType: 'guide', tags: ['organ'], accessTier: 'free' };
/** Paragraphs of about a small chunk each (CHUNK_TARGET_TOKENS below), so that a document has several chunks. */
const text = (topic: string, n = 4) =>
  Array.from(
    { length: n },
    (_, i) =>
      `${topic} paragraph ${i}: beef liver, kidney and heart carry retinol, copper and B12 in plenty.`,
  ).join('\n\n');

type Json = Record<string, unknown>;

describe.each(targets())('maintenance on %s', (kind) => {
  let svc: TestService;
  const sql = () => svc.db.client;

  beforeAll(async () => {
    svc = await startService(kind, {
      VECTOR_INDEX_MIN_CHUNKS: '0',
      CHUNK_TARGET_TOKENS: '24',
      CHUNK_OVERLAP_TOKENS: '0',
      CHUNK_MAX_TOKENS: '48',
      MAINTENANCE_RUNS_KEPT: '4',
    });
  });
  afterAll(() => svc?.close());

  /** The position of the last write: the projector is waited for up to it (the server's head may lag it). */
  let last = '';
  const write = async (method: string, path: string, options: Parameters<TestService['request']>[2]) => {
    const res = await svc.request(method, path, options);
    expect(res.status).toBeLessThan(300);
    last = res.body.position as string;
    return res.body as { documentId: string; version: number };
  };
  const upload = async (title: string, content = text(title)) =>
    (
      await write('POST', '/documents', {
        json: { coachId: 'carnivore', title, content, format: 'markdown', metadata: meta },
      })
    ).documentId;
  const uploadFile = async (name: string, bytes: string) => {
    const form = new FormData();
    form.set('coachId', 'carnivore');
    form.set('metadata', JSON.stringify(meta));
    form.set('file', new Blob([bytes]), name);
    return (await write('POST', '/documents', { form })).documentId;
  };
  const caughtUp = async () =>
    expect(await svc.app.get(ProjectionEngine).waitUntilCaughtUp({ position: last, timeoutMs: 60_000 })).toBe(
      true,
    );
  /** A run over HTTP that must succeed (a failed task shows with its reason). */
  const run = async (): Promise<MaintenanceReport> => {
    const res = await svc.request('POST', '/admin/maintenance');
    expect(res.status).toBe(200);
    const report = res.body as MaintenanceReport;
    expect(report.tasks.filter((t) => t.status === 'failed')).toEqual([]);
    expect(report.status).toBe('succeeded');
    return report;
  };
  const task = (report: MaintenanceReport, name: TaskReport['name']) =>
    report.tasks.find((t) => t.name === name)!;
  const count = async (query: string, params: unknown[] = []) =>
    (await sql().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${query}`, params)).rows[0]!.n;

  it('finds nothing on a consistent store; removes expired cache rows, an orphan file and what an erasure left, then finds nothing again', async () => {
    const kept = await upload('Kept liver guide');
    const erased = await uploadFile('erased-notes.txt', text('Erased kidney notes'));
    await write('POST', `/documents/${erased}/erase`, { json: { reason: 'withdrawn' } });
    await caughtUp();
    const clean = await run();
    expect(task(clean, 'consistency').details).toMatchObject({ differencesTotal: 0, documentsRepaired: 0 });
    expect(task(clean, 'consistency').details.chunkVersions).toBe(1); // the kept document's one version

    // Work for the next run: cached results that expired, a file nobody refers to, and an erasure's leftovers
    // (its key, its URL source, a chunk) as if the erasure had been cut short; and a row of a document with no events.
    await sql().query(
      `INSERT INTO rag_query_cache (cache_key, coach_id, results, expires_at)
       VALUES ('expired-1', 'carnivore', '[]', now() - interval '1 minute'),
              ('expired-2', 'carnivore', '[]', now() - interval '1 hour')`,
    );
    await sql().query(
      `INSERT INTO files (sha256, content_type, size, bytes) VALUES ($1, 'text/plain', 6, 'orphan'::bytea)`,
      ['0'.repeat(64)],
    );
    await sql().query(`INSERT INTO document_keys (document_id, key) VALUES ($1, '\\x00'::bytea)`, [erased]);
    await sql().query(
      `INSERT INTO url_sources (document_id, coach_id, url, refresh_interval_days, created_at, next_refresh_at)
       VALUES ($1, 'carnivore', 'https://example.org/erased', 30, now(), now())`,
      [erased],
    );
    await sql().query(
      `INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
         end_char, access_tier, document_type, tags, metadata, embedded_sha256, valid_from, valid_from_at, is_current,
         embedding)
       SELECT space, chunker, $2, coach_id, version, chunk_index, title, content, start_char, end_char, access_tier,
         document_type, tags, metadata, embedded_sha256, valid_from, valid_from_at, is_current, embedding
       FROM chunks WHERE document_id = $1 AND chunk_index = 0 AND is_current`,
      [kept, erased],
    );
    const ghost = randomUUID();
    await sql().query(
      `INSERT INTO documents (document_id, coach_id, status, version, created_at, created_by, updated_at, updated_by, position)
       VALUES ($1, 'carnivore', 'active', 1, now(), 'nobody', now(), 'nobody', '1.1')`,
      [ghost],
    );

    const work = await run();
    expect(task(work, 'query-cache')).toMatchObject({ status: 'succeeded', rows: 2 });
    const orphans = task(work, 'orphans');
    expect(orphans.details).toMatchObject({
      erasedDocuments: { documentKeys: { rows: 1 }, urlSources: { rows: 1 }, chunks: { rows: 1 } },
      withoutEvents: { documents: [ghost] },
    });
    expect(orphans.rows).toBe(4); // the key, the source, the chunk, the document's row
    expect(task(work, 'orphan-files')).toMatchObject({ rows: 1, bytes: 6 });
    expect(await count(`files WHERE sha256 = $1`, ['0'.repeat(64)])).toBe(0);
    expect(await count(`document_keys WHERE document_id = $1`, [erased])).toBe(0);
    expect(await count(`chunks WHERE document_id = $1`, [erased])).toBe(0);
    expect(await count(`documents WHERE document_id = $1`, [ghost])).toBe(0);
    expect(await count(`chunks WHERE document_id = $1`, [kept])).toBeGreaterThan(1);

    const again = await run();
    expect(task(again, 'query-cache').rows).toBe(0);
    expect(task(again, 'orphans').rows).toBe(0);
    expect(task(again, 'orphan-files').rows).toBe(0);
    expect(task(again, 'consistency')).toMatchObject({ rows: 0, details: { differencesTotal: 0 } });
    expect(task(again, 'vacuum').status).toBe('succeeded');
  });

  it('finds read-model rows altered by hand, reports each field, and repairs them from the events', async () => {
    const id = await upload('Heart guide');
    await write('PATCH', `/documents/${id}`, {
      json: { content: text('Heart guide, revised', 5), changeSummary: 'more on copper' },
    });
    await caughtUp();
    expect(task(await run(), 'consistency').details).toMatchObject({ differencesTotal: 0 });
    const chunk = `chunks WHERE document_id = $1 AND version = 2 AND chunk_index = 1`;
    const original = (await sql().query<{ content: string }>(`SELECT content FROM ${chunk}`, [id])).rows[0]!;

    await sql().query(`UPDATE documents SET title = 'Tampered' WHERE document_id = $1`, [id]);
    await sql().query(
      `UPDATE document_versions SET change_summary = 'tampered' WHERE document_id = $1 AND version = 2`,
      [id],
    );
    await sql().query(`DELETE FROM document_versions WHERE document_id = $1 AND version = 1`, [id]);
    await sql().query(`UPDATE ${chunk.replace('chunks WHERE', 'chunks SET content = $2 WHERE')}`, [
      id,
      'zebra stripes tampered',
    ]);
    await sql().query(`DELETE FROM chunks WHERE document_id = $1 AND version = 1 AND chunk_index = 0`, [id]);

    const consistency = task(await run(), 'consistency');
    const repaired = { documentId: id, repaired: true };
    expect(consistency.details.differences).toEqual(
      expect.arrayContaining([
        { ...repaired, readModel: 'documents', field: 'title' },
        { ...repaired, readModel: 'document_versions', version: 1, field: 'row missing' },
        { ...repaired, readModel: 'document_versions', version: 2, field: 'change_summary' },
        { ...repaired, readModel: 'chunks', version: 1, field: 'count' },
        { ...repaired, readModel: 'chunks', version: 2, field: 'content' },
      ]),
    );
    expect(consistency.details).toMatchObject({ differencesTotal: 5, documentsRepaired: 1 });
    expect(consistency.rows).toBeGreaterThan(0);

    expect((await svc.request('GET', `/documents/${id}`)).body.title).toBe('Heart guide');
    const versions = (await svc.request('GET', `/documents/${id}/versions`)).body.versions;
    expect(versions.map((v: Json) => [v.version, v.changeSummary ?? null])).toEqual([
      [1, null],
      [2, 'more on copper'],
    ]);
    expect((await sql().query(`SELECT content FROM ${chunk}`, [id])).rows).toEqual([original]);
    expect(await count(`chunks WHERE document_id = $1 AND version = 1 AND chunk_index = 0`, [id])).toBe(1);
    // The coach's BM25 statistics match its current chunks again (the edit in place had bypassed their triggers).
    expect(
      await count(
        `(SELECT lexeme, access_tier, count(*)::int AS df FROM chunks, unnest(tsvector_to_array(tsv)) AS lexeme
          WHERE is_current AND coach_id = 'carnivore' GROUP BY 1, 2) r
         FULL JOIN (SELECT lexeme, access_tier, df FROM chunk_lexemes WHERE coach_id = 'carnivore') l
           USING (lexeme, access_tier) WHERE r.df IS DISTINCT FROM l.df`,
      ),
    ).toBe(0);
    expect(task(await run(), 'consistency').details).toMatchObject({ differencesTotal: 0 });
  });

  it('refuses a second run while another holds the lock (409 MAINTENANCE_RUNNING); the scheduled tick skips', async () => {
    const other = await sql().session();
    expect(await other.tryLock(MAINTENANCE_LOCK)).toBe(true);
    try {
      const refused = await svc.request('POST', '/admin/maintenance');
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(refused.body.code).toBe('MAINTENANCE_RUNNING');
      expect(await svc.app.get(MaintenanceScheduler).tick()).toBeUndefined();
    } finally {
      await other.unlock(MAINTENANCE_LOCK);
      await other.release();
    }
    await run();
  });

  it('keeps the newest MAINTENANCE_RUNS_KEPT reports and lists them newest first, to admins only', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await run()).runId);
    const list = await svc.request('GET', '/admin/maintenance/runs');
    expect(list.status).toBe(200);
    expect(list.body.runs.map((r: Json) => r.runId)).toEqual(ids.slice(1).reverse());
    expect(list.body.runs[0]).toMatchObject({ trigger: 'api', status: 'succeeded' });
    expect(list.body.runs[0].tasks.map((t: Json) => t.name)).toEqual([
      'query-cache',
      'orphans',
      'consistency',
      'orphan-files',
      'vacuum',
      'vector-index',
    ]);
    expect((await svc.request('GET', '/admin/maintenance/runs?limit=1')).body.runs).toHaveLength(1);
    expect((await svc.request('GET', '/admin/maintenance/runs?limit=0')).body.code).toBe('VALIDATION_FAILED');
    expect((await svc.request('GET', '/admin/maintenance/runs', { as: 'editor' })).status).toBe(403);
    expect((await svc.request('POST', '/admin/maintenance', { as: 'premiumReader' })).status).toBe(403);
  });

  it('runs on its schedule: the tick of the cron job runs maintenance and keeps its report', async () => {
    svc.app.get(SchedulerRegistry).getCronJob(MAINTENANCE_JOB).fireOnTick();
    const report = await svc.app.get(MaintenanceScheduler).tick();
    expect(report).toMatchObject({ trigger: 'schedule', status: 'succeeded' });
    const list = await svc.request('GET', '/admin/maintenance/runs?limit=1');
    expect(list.body.runs[0]).toEqual(report);
  });

  it('rebuilds a bloated vector index concurrently on PostgreSQL; skips it on the embedded database', async () => {
    const ids = [
      await upload('Index one', text('Index one', 10)),
      await upload('Index two', text('Index two', 10)),
    ];
    await caughtUp();
    // Measured afresh now (as when first seen), then made to grow: every edit adds new current chunks.
    await sql().query('DELETE FROM maintenance_index_baselines');
    const measured = task(await run(), 'vector-index');
    if (kind === 'pglite') {
      expect(measured).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/one session/) });
      return;
    }
    const current = (t: TaskReport) =>
      (t.details.indexes as Json[]).find((i) => !String(i.index).endsWith('_past'))!;
    expect(current(measured)).toMatchObject({ action: 'baseline' });
    for (let round = 1; round <= 4; round++)
      for (const id of ids)
        await write('PATCH', `/documents/${id}`, {
          json: { content: text(`Index round ${round} ${id}`, 10) },
        });
    await caughtUp();
    const bloated = task(await run(), 'vector-index');
    expect(current(bloated)).toMatchObject({ action: 'rebuilt' });
    expect(current(bloated).bloatPercent).toBeGreaterThanOrEqual(30);
    expect(current(bloated).sizeAfterBytes).toBeLessThan(current(bloated).sizeBytes as number);
    expect(bloated.bytes).toBeGreaterThan(0);
    expect(current(task(await run(), 'vector-index'))).toMatchObject({ action: 'kept' });
    const search = await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'index round 4 liver', mode: 'vector', minPosition: last },
    });
    expect(search.body.results.length).toBeGreaterThan(0);
  });
});
