import { CliFailure, usageOrFailure } from '../../src/cli/cli-errors.js';
import { runMaintenance } from '../../src/cli/maintenance-command.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { MAINTENANCE_LOCK } from '../../src/projections/maintenance/maintenance-runner.js';
import { Child } from '../support/child.js';
import { openTestDatabase, targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

// A key of its own, so that the CLI's application context does not generate one in ./data.
const CONFIG = { ADMIN_API_KEY: 'cli-test-admin-key-0123456789' };

describe.each(targets())('docsvc maintenance on %s', (kind) => {
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
  });
  afterAll(() => svc?.close());

  it('runs every task on the database: a line per task, the report as data, exit 0', async () => {
    const out = await runMaintenance(loadConfig(CONFIG), svc.db.client);
    expect(out.exitCode).toBe(0);
    expect(out.data).toMatchObject({ trigger: 'cli', status: 'succeeded' });
    const lines = out.human.split('\n');
    expect(lines[0]).toMatch(/^maintenance run [0-9a-f-]{36} \(cli\): succeeded in \d/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual([
      'query-cache',
      'orphans',
      'consistency',
      'orphan-files',
      'vacuum',
      'vector-index',
    ]);
    expect(out.human).toMatch(/^ {2}consistency +succeeded .* 1 document\(s\) .* 0 difference\(s\)/m);
    // The service keeps the CLI's report with its own.
    const runs = await svc.request('GET', '/admin/maintenance/runs?limit=1');
    expect(runs.body.runs[0]).toEqual(out.data);
  });

  it('exits 1 when a task failed: a document whose key is gone is reported and left alone', async () => {
    const { rows } = await svc.db.client.query<{ key: string }>(
      `DELETE FROM document_keys WHERE document_id = $1 RETURNING encode(key, 'hex') AS key`,
      [id],
    );
    try {
      const out = await runMaintenance(loadConfig(CONFIG), svc.db.client);
      expect(out.exitCode).toBe(1);
      expect(out.data.status).toBe('failed');
      const consistency = out.data.tasks.find((t) => t.name === 'consistency')!;
      expect(consistency).toMatchObject({ status: 'failed', reason: '1 document(s) without a key' });
      expect(consistency.details.differences).toEqual([
        {
          documentId: id,
          readModel: 'document_keys',
          field: 'key missing',
          repaired: false,
          note: expect.any(String),
        },
      ]);
      expect(out.human).toMatch(/^ {2}consistency +failed/m);
      // Left alone: the read model still has the text the events can no longer give.
      expect((await svc.request('GET', `/documents/${id}`)).body.title).toBe('Organ meats');
      // Without every document read, no file is judged an orphan.
      expect(out.data.tasks.find((t) => t.name === 'orphan-files')).toMatchObject({ status: 'skipped' });
    } finally {
      await svc.db.client.query(
        `INSERT INTO document_keys (document_id, key) VALUES ($1, decode($2, 'hex'))`,
        [id, rows[0]!.key],
      );
    }
  });

  it('fails with MAINTENANCE_RUNNING (exit 1) while another run holds the lock', async () => {
    const other = await svc.db.client.session();
    expect(await other.tryLock(MAINTENANCE_LOCK)).toBe(true);
    try {
      const failure = await runMaintenance(loadConfig(CONFIG), svc.db.client)
        .catch(usageOrFailure)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CliFailure);
      expect(failure).toMatchObject({ code: 'MAINTENANCE_RUNNING', exitCode: 1 });
    } finally {
      await other.unlock(MAINTENANCE_LOCK);
      await other.release();
    }
  });

  it('is a command of the program: `docsvc maintenance --json` prints the report alone on stdout', async () => {
    const db = await openTestDatabase(kind, { onDisk: true });
    await db.close(); // the embedded database's files go to the child
    try {
      const run = await Child.runCli(['maintenance', '--json'], { ...db.env, ...CONFIG, LOG_LEVEL: 'error' });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ trigger: 'cli', status: 'succeeded' });
    } finally {
      await db.drop();
    }
  }, 120_000);
});
