import { SchedulerRegistry } from '@nestjs/schedule';
import type { TaskReport } from '../../src/projections/maintenance/maintenance-report.js';
import { MAINTENANCE_LOCK } from '../../src/projections/maintenance/maintenance-runner.js';
import {
  MAINTENANCE_JOB,
  MaintenanceScheduler,
} from '../../src/projections/maintenance/maintenance.scheduler.js';
import { targets } from '../support/databases.js';
import { maintenanceService, task, text, type MaintenanceHarness } from '../support/maintenance.js';

type Json = Record<string, unknown>;

describe.each(targets())('maintenance runs on %s', (kind) => {
  let h: MaintenanceHarness;
  beforeAll(async () => (h = await maintenanceService(kind)));
  afterAll(() => h?.svc.close());

  it('refuses a second run while another holds the lock (409 MAINTENANCE_RUNNING); the scheduled tick skips', async () => {
    const other = await h.sql().session();
    expect(await other.tryLock(MAINTENANCE_LOCK)).toBe(true);
    try {
      const refused = await h.svc.request('POST', '/admin/maintenance');
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(refused.body.code).toBe('MAINTENANCE_RUNNING');
      expect(await h.svc.app.get(MaintenanceScheduler).tick()).toBeUndefined();
    } finally {
      await other.unlock(MAINTENANCE_LOCK);
      await other.release();
    }
    await h.run();
    // Both refusals and the run are counted by result in /metrics.
    const metrics = (await h.svc.request('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^docsvc_maintenance_runs_total\{result="skipped"\} 2$/m);
    expect(metrics).toMatch(/^docsvc_maintenance_runs_total\{result="ok"\} 1$/m);
  });

  it('keeps the newest MAINTENANCE_RUNS_KEPT reports and lists them newest first, to admins only', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.run()).runId);
    const list = await h.svc.request('GET', '/admin/maintenance/runs');
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
    expect((await h.svc.request('GET', '/admin/maintenance/runs?limit=1')).body.runs).toHaveLength(1);
    expect((await h.svc.request('GET', '/admin/maintenance/runs?limit=0')).body.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await h.svc.request('GET', '/admin/maintenance/runs', { as: 'editor' })).status).toBe(403);
    expect((await h.svc.request('POST', '/admin/maintenance', { as: 'premiumReader' })).status).toBe(403);
  });

  it('runs on its schedule: the tick of the cron job runs maintenance and keeps its report', async () => {
    h.svc.app.get(SchedulerRegistry).getCronJob(MAINTENANCE_JOB).fireOnTick();
    const report = await h.svc.app.get(MaintenanceScheduler).tick();
    expect(report).toMatchObject({ trigger: 'schedule', status: 'succeeded' });
    const list = await h.svc.request('GET', '/admin/maintenance/runs?limit=1');
    expect(list.body.runs[0]).toEqual(report);
  });

  it('rebuilds a bloated vector index concurrently on PostgreSQL; skips it on the embedded database', async () => {
    const ids = [
      await h.upload('Index one', text('Index one', 10)),
      await h.upload('Index two', text('Index two', 10)),
    ];
    await h.caughtUp();
    // Measured afresh now (as when first seen), then made to grow: every edit adds new current chunks.
    await h.sql().query('DELETE FROM maintenance_index_baselines');
    const measured = task(await h.run(), 'vector-index');
    if (kind === 'pglite') {
      expect(measured).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/one session/) });
      return;
    }
    const current = (t: TaskReport) =>
      (t.details.indexes as Json[]).find((i) => !String(i.index).endsWith('_past'))!;
    expect(current(measured)).toMatchObject({ action: 'baseline' });
    for (let round = 1; round <= 4; round++)
      for (const id of ids)
        await h.write('PATCH', `/documents/${id}`, {
          json: { content: text(`Index round ${round} ${id}`, 10) },
        });
    await h.caughtUp();
    const bloated = task(await h.run(), 'vector-index');
    expect(current(bloated)).toMatchObject({ action: 'rebuilt' });
    expect(current(bloated).bloatPercent).toBeGreaterThanOrEqual(30);
    expect(current(bloated).sizeAfterBytes).toBeLessThan(current(bloated).sizeBytes as number);
    expect(bloated.bytes).toBeGreaterThan(0);
    expect(current(task(await h.run(), 'vector-index'))).toMatchObject({ action: 'kept' });
    const search = await h.svc.request('POST', '/search', {
      json: {
        coachId: 'carnivore',
        query: 'index round 4 liver',
        mode: 'vector',
        minPosition: h.lastPosition(),
      },
    });
    expect(search.body.results.length).toBeGreaterThan(0);
  });
});
