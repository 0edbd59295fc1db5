import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runFolderImport } from '../../src/cli/import/run-import.js';
import { silentProgress } from '../../src/cli/import/progress.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { Child } from '../support/child.js';
import { targets } from '../support/databases.js';
import { libraryTree, type LibraryTree } from '../support/folder-tree.js';
import { KEYS, startService, type TestService } from '../support/service.js';

const TIMEOUT = 180_000;

/**
 * `docsvc import <dir> --url` as a user runs it beside the embedded service, which holds its data directory; then
 * without a URL, on the database (PGlite and PostgreSQL), below.
 */
describe('docsvc import <dir> over HTTP, against the running embedded service', () => {
  let svc: TestService;
  let tree: LibraryTree;
  beforeAll(async () => {
    svc = await startService('pglite');
    tree = libraryTree();
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(tree.root, { recursive: true, force: true });
  });

  const args = (coach: string, root = tree.root) => [
    'import',
    root,
    ...['--coach', coach, '--type', 'research', '--tier', 'premium', '--url', svc.base],
  ];
  const env = { DOCSVC_API_KEY: KEYS.admin };
  const importJson = async (coach: string, ...more: string[]) => {
    const run = await Child.runCli([...args(coach), '--json', ...more], env);
    return { code: run.code, report: JSON.parse(run.stdout), stderr: run.stderr };
  };
  /** Every event of the coach's documents, by the path each came from: what two runs must agree on. */
  const eventsByPath = async (coach: string) =>
    (
      await svc.db.client.query<{ line: string }>(
        `SELECT d.source_path || ' v' || e.stream_position || ' ' || e.type AS line
         FROM events e JOIN documents d ON e.stream_id = 'document-' || d.document_id
         WHERE d.coach_id = $1 ORDER BY d.source_path, e.stream_position`,
        [coach],
      )
    ).rows.map((r) => r.line);
  const documentAt = async (coach: string, path: string) =>
    (
      await svc.db.client.query<{
        document_id: string;
        status: string;
        title: string;
        metadata: Record<string, unknown>;
      }>(
        'SELECT document_id::text, status, title, metadata FROM documents WHERE coach_id = $1 AND source_path = $2',
        [coach, path],
      )
    ).rows[0];

  it(
    'imports every good file once, reports each failure by path and code, and exits 1',
    async () => {
      const { code, report } = await importJson('carnivore');
      expect(code).toBe(1);
      expect(report).toMatchObject({ files: tree.good.length + 1 + Object.keys(tree.failing).length });
      expect(report).toMatchObject({ created: tree.good.length, duplicates: 1, updated: 0, unchanged: 0 });
      const failed = Object.fromEntries(
        report.failed.map((f: { path: string; code: string }) => [f.path, f.code]),
      );
      expect(failed).toEqual(tree.failing);
      expect((await eventsByPath('carnivore')).length).toBe(tree.good.length);
    },
    TIMEOUT,
  );

  it('takes metadata from the flags, then the file name, then the sidecar', async () => {
    const named = await documentAt('carnivore', 'guides/2024-01-15 - Dr Smith - Sleep Guide.txt');
    expect(named).toMatchObject({ title: 'Sleep Guide' });
    expect(named!.metadata).toMatchObject({
      author: 'Dr Smith',
      publicationDate: '2024-01-15',
      documentType: 'research',
    });
    const withSidecar = await documentAt('carnivore', 'guides/keto.md');
    expect(withSidecar!.metadata).toMatchObject({
      documentType: 'protocol',
      tags: ['keto'],
      accessTier: 'premium',
    });
  });

  it(
    'imports nothing the second time',
    async () => {
      const before = await svc.countEvents();
      const { code, report } = await importJson('carnivore');
      expect(code).toBe(1);
      expect(report).toMatchObject({ created: 0, updated: 0, unchanged: tree.good.length, duplicates: 1 });
      expect(await svc.countEvents()).toBe(before);
    },
    TIMEOUT,
  );

  it(
    'makes a changed file a new version, and retires a removed one only with --retire-missing',
    async () => {
      tree.write('notes/note-1.txt', 'Coaching note number 1, revised: magnesium glycinate at night.');
      rmSync(join(tree.root, 'notes/note-2.txt'));
      const changed = await importJson('carnivore');
      expect(changed.report).toMatchObject({ created: 0, updated: 1, retiredMissing: [] });
      expect((await documentAt('carnivore', 'notes/note-2.txt'))!.status).toBe('active');
      const dry = await importJson('carnivore', '--retire-missing', '--dry-run');
      expect(dry.report.retiredMissing).toEqual(['notes/note-2.txt']);
      expect((await documentAt('carnivore', 'notes/note-2.txt'))!.status).toBe('active');
      const retiring = await importJson('carnivore', '--retire-missing');
      expect(retiring.report).toMatchObject({ updated: 0, retiredMissing: ['notes/note-2.txt'] });
      expect((await documentAt('carnivore', 'notes/note-2.txt'))!.status).toBe('retired');
      expect(await eventsByPath('carnivore')).toEqual(
        expect.arrayContaining([
          'notes/note-1.txt v2 DocumentFileReplaced',
          'notes/note-2.txt v2 DocumentRetired',
        ]),
      );
    },
    TIMEOUT,
  );

  it(
    'finishes after being killed half-way: the events are exactly those of one clean run',
    async () => {
      const fresh = libraryTree({ notes: 40, rich: false });
      try {
        const clean = await Child.runCli([...args('clean', fresh.root), '--json'], env);
        expect(clean.code).toBe(1);
        const child = Child.cli([...args('killed', fresh.root), '--concurrency', '1', '--json'], env);
        await until(async () => (await eventsByPath('killed')).length >= 3);
        child.process.kill('SIGKILL');
        await child.exited;
        const atKill = (await eventsByPath('killed')).length;
        expect(atKill).toBeLessThan((await eventsByPath('clean')).length);
        const resumed = await Child.runCli([...args('killed', fresh.root), '--json'], env);
        // The request under way when the client died may still have been written: counted as unchanged then.
        const { created, unchanged } = JSON.parse(resumed.stdout);
        expect(created).toBeLessThan(fresh.good.length);
        expect(created + unchanged).toBe(fresh.good.length);
        expect(await eventsByPath('killed')).toEqual(await eventsByPath('clean'));
      } finally {
        rmSync(fresh.root, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  it(
    'stops on Ctrl-C after the files under way, says so, exits 130, and a second run finishes',
    async () => {
      const fresh = libraryTree({ notes: 40, rich: false });
      try {
        const child = Child.cli([...args('stopped', fresh.root), '--concurrency', '1', '--json'], env);
        await until(async () => (await eventsByPath('stopped')).length >= 2);
        child.process.kill('SIGINT');
        const code = await new Promise((resolve) => child.process.on('close', resolve));
        expect(code).toBe(130);
        const report = JSON.parse(child.stdout);
        expect(report.interrupted).toBe(true);
        expect(report.created).toBe((await eventsByPath('stopped')).length);
        const rest = await Child.runCli([...args('stopped', fresh.root), '--json'], env);
        expect(JSON.parse(rest.stdout)).toMatchObject({
          created: fresh.good.length - report.created,
          interrupted: false,
        });
      } finally {
        rmSync(fresh.root, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );
});

describe.each(targets())('docsvc import <dir> on the database (%s)', (kind) => {
  let svc: TestService;
  let tree: LibraryTree;
  beforeAll(async () => {
    svc = await startService(kind);
    tree = libraryTree();
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(tree.root, { recursive: true, force: true });
  });

  it(
    'imports the folder once, and nothing the second time',
    async () => {
      const options = {
        root: tree.root,
        coachId: 'local',
        flags: { documentType: 'guide', accessTier: 'free' },
        concurrency: 2,
        dryRun: false,
        retireMissing: false,
      };
      const context = {
        db: svc.db.client,
        config: loadConfig({ ADMIN_API_KEY: 'cli-test-admin-key-0123456789' }),
      };
      const first = await runFolderImport(options, undefined, silentProgress, context);
      expect(first).toMatchObject({
        created: tree.good.length,
        duplicates: 1,
        target: 'the configured database',
      });
      expect(first.failed.map((f) => [f.path, f.code])).toEqual(Object.entries(tree.failing).sort());
      const before = await svc.countEvents();
      const second = await runFolderImport(options, undefined, silentProgress, context);
      expect(second).toMatchObject({ created: 0, unchanged: tree.good.length, duplicates: 1 });
      expect(await svc.countEvents()).toBe(before);
    },
    TIMEOUT,
  );
});

/** Polls a condition of the database (not a clock): the child's progress as the service records it. */
async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
