import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import type { MaintenanceReport, TaskReport } from '../../src/projections/maintenance/maintenance-report.js';
import type { TargetKind } from './databases.js';
import { startService, type TestService } from './service.js';

const meta = { documentType: 'guide', tags: ['organ'], accessTier: 'free' };

/** Paragraphs of about a small chunk each (CHUNK_TARGET_TOKENS below), so that a document has several chunks. */
export const text = (topic: string, n = 4) =>
  Array.from(
    { length: n },
    (_, i) =>
      `${topic} paragraph ${i}: beef liver, kidney and heart carry retinol, copper and B12 in plenty.`,
  ).join('\n\n');

export const task = (report: MaintenanceReport, name: TaskReport['name']) =>
  report.tasks.find((t) => t.name === name)!;

/**
 * The service the maintenance tests run against (small chunks, the vector index from the first chunk, few kept
 * runs), and what they do with it: writes whose position the projector is then waited for (the server's head
 * may lag a write: another database's open transaction holds the horizon back), and runs over HTTP.
 */
export async function maintenanceService(kind: TargetKind) {
  const svc: TestService = await startService(kind, {
    VECTOR_INDEX_MIN_CHUNKS: '0',
    CHUNK_TARGET_TOKENS: '24',
    CHUNK_OVERLAP_TOKENS: '0',
    CHUNK_MAX_TOKENS: '48',
    MAINTENANCE_RUNS_KEPT: '4',
  });
  let last = '';
  const write = async (method: string, path: string, options: Parameters<TestService['request']>[2]) => {
    const res = await svc.request(method, path, options);
    expect(res.status).toBeLessThan(300);
    last = res.body.position as string;
    return res.body as { documentId: string; version: number };
  };
  return {
    svc,
    sql: () => svc.db.client,
    write,
    lastPosition: () => last,
    upload: async (title: string, content = text(title)) =>
      (
        await write('POST', '/documents', {
          json: { coachId: 'carnivore', title, content, format: 'markdown', metadata: meta },
        })
      ).documentId,
    uploadFile: async (name: string, bytes: string) => {
      const form = new FormData();
      form.set('coachId', 'carnivore');
      form.set('metadata', JSON.stringify(meta));
      form.set('file', new Blob([bytes]), name);
      return (await write('POST', '/documents', { form })).documentId;
    },
    caughtUp: async () =>
      expect(
        await svc.app.get(ProjectionEngine).waitUntilCaughtUp({ position: last, timeoutMs: 60_000 }),
      ).toBe(true),
    /** A run over HTTP that must succeed (a failed task shows with its reason). */
    run: async (): Promise<MaintenanceReport> => {
      const res = await svc.request('POST', '/admin/maintenance');
      expect(res.status).toBe(200);
      const report = res.body as MaintenanceReport;
      expect(report.tasks.filter((t) => t.status === 'failed')).toEqual([]);
      expect(report.status).toBe('succeeded');
      return report;
    },
    count: async (from: string, params: unknown[] = []) =>
      (await svc.db.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from}`, params)).rows[0]!.n,
  };
}

export type MaintenanceHarness = Awaited<ReturnType<typeof maintenanceService>>;
