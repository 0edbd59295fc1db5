import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createApp } from '../../src/app/bootstrap.js';
import { readMigrations } from '../../src/infrastructure/migrations/migrator.js';
import { Child } from '../support/child.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

const ADMIN_KEY = 'cli-json-admin-key-0123456789';
const CHILD_MS = 120_000;

/**
 * Every command run as a user runs it, with --json: its whole stdout is one JSON document, and the logs (here
 * the warning about a generated admin key, and rebuild progress) are on stderr.
 */
describe.each(targets())('docsvc <command> --json on %s', (kind) => {
  let db: TestDatabase | undefined;
  let env: Record<string, string>;
  let documentId: string;
  // The embedded database (created by the first command) or only the generated key.
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-cli-json-'));
  const docsvc = (...args: string[]) => Child.runCli(args, env);

  beforeAll(async () => {
    if (kind === 'postgres') db = await openTestDatabase(kind, { migrate: false });
    // No key configured: the first command that builds the application generates one in DATA_DIR.
    env = { DATA_DIR: dataDir, ...db?.env };
  }, CHILD_MS);
  afterAll(async () => {
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'migrate prints the migrations it applied',
    async () => {
      const run = await docsvc('migrate', '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ applied: readMigrations().map((m) => m.name) });
      documentId = await uploadOne(env);
    },
    CHILD_MS,
  );

  it(
    'history prints the versions; the generated-key warning goes to stderr',
    async () => {
      const run = await docsvc('history', documentId, '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ documentId, versions: [{ version: 1 }] });
      expect(run.stderr).toMatch(/an admin key was generated/);
    },
    CHILD_MS,
  );

  it(
    'rollback prints the outcome, and the key is not announced again',
    async () => {
      const run = await docsvc('rollback', documentId, '1', '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ documentId, version: 1, changed: false });
      expect(run.stderr).not.toMatch(/generated/);
    },
    CHILD_MS,
  );

  it(
    'search prints the results',
    async () => {
      const run = await docsvc('search', 'sodium potassium', '--coach', 'carnivore', '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).results[0]).toMatchObject({ documentId, section: 'Salt' });
    },
    CHILD_MS,
  );

  it(
    'rebuild prints what it rebuilt; its progress is on stderr',
    async () => {
      const run = await docsvc('rebuild', 'chunks', '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).rebuilt).toEqual([expect.objectContaining({ name: 'chunks' })]);
      expect(run.stderr).toMatch(/chunks: rebuilt/);
    },
    CHILD_MS,
  );

  it(
    'a failure prints {"error": …} with its code and exit code, the message also on stderr',
    async () => {
      const unknown = await docsvc('history', '00000000-0000-4000-8000-000000000000', '--json');
      expect(unknown.code).toBe(1);
      expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'NOT_FOUND', exitCode: 1 } });
      expect(unknown.stderr).toMatch(/^docsvc: NOT_FOUND/m);
      const usage = await docsvc('search', 'x', '--json');
      expect(usage.code).toBe(2);
      expect(JSON.parse(usage.stdout)).toMatchObject({ error: { code: 'USAGE', exitCode: 2 } });
    },
    CHILD_MS,
  );
});

/** The service in this process, long enough to upload one document and see it in the chunks. */
async function uploadOne(env: Record<string, string>): Promise<string> {
  const app = await createApp(
    loadConfig({ ...env, ADMIN_API_KEY: ADMIN_KEY, PORT: '0', LOG_LEVEL: 'fatal' }),
  );
  try {
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const up = (await (
      await fetch(`${base}/documents`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          coachId: 'carnivore',
          title: 'Electrolytes',
          content: '# Salt\n\nSodium and potassium matter on a ketogenic diet.',
          format: 'markdown',
          metadata: { documentType: 'guide', tags: ['keto'], accessTier: 'free' },
        }),
      })
    ).json()) as { documentId: string; position: string };
    // Searching at the upload's position waits until the chunks have it.
    await fetch(`${base}/search`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ coachId: 'carnivore', query: 'x', minPosition: up.position }),
    });
    return up.documentId;
  } finally {
    await app.close();
  }
}
