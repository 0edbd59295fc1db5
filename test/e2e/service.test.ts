import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createApp } from '../../src/app/bootstrap.js';
import { DataDirLockedError } from '../../src/infrastructure/sql/data-dir-lock.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

describe.each(targets())('the service on %s', (kind) => {
  let db: TestDatabase;
  let app: INestApplication | undefined;
  let base: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-service-'));
  const config = () => loadConfig({ DATA_DIR: dataDir, ...db.env, PORT: '0', LOG_LEVEL: 'fatal' });

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onDisk: true, migrate: false });
    if (kind === 'pglite') await db.close();
    app = await createApp(config());
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never runs open: with no key configured it generates an admin key, readable only by its owner', async () => {
    const keyDir = kind === 'pglite' ? db.env.DATA_DIR! : dataDir;
    const file = join(keyDir, 'admin-api-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect((await fetch(`${base}/documents?coachId=any`)).status).toBe(401);
    expect(
      (await fetch(`${base}/documents?coachId=any`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(200);
  });

  it('publishes its OpenAPI document and the browsable docs without a key', async () => {
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/documents',
        '/documents/{id}',
        '/documents/{id}/rollback',
        '/documents/{id}/erase',
      ]),
    );
    const docs = await fetch(`${base}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger-ui/i);
  });

  it('answers liveness and readiness, migrated on start', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      checks: Record<string, { status: string; applied?: number; expected?: number }>;
    };
    expect(body.status).toBe('ok');
    expect(body.checks.database!.status).toBe('ok');
    expect(body.checks.migrations).toMatchObject({ status: 'ok' });
    expect(body.checks.migrations!.applied).toBe(body.checks.migrations!.expected);
  });

  it('answers unknown routes with problem+json', async () => {
    const res = await fetch(`${base}/no-such-route`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      title: expect.any(String),
      type: expect.any(String),
    });
  });

  it('refuses a second service on the same embedded data, or an edited migration, at start-up', async () => {
    if (kind === 'pglite') {
      await expect(createApp(config())).rejects.toBeInstanceOf(DataDirLockedError);
      return;
    }
    // An edit to an applied file shows as a checksum that no longer matches the recorded one.
    const { rows } = await db.client.query<{ checksum: string }>(
      `SELECT checksum FROM schema_migrations WHERE id = 2`,
    );
    await db.client.query(`UPDATE schema_migrations SET checksum = md5(checksum) WHERE id = 2`);
    try {
      await expect(createApp(config())).rejects.toThrow(
        /0002_event_store.sql was edited after it was applied/,
      );
    } finally {
      await db.client.query(`UPDATE schema_migrations SET checksum = $1 WHERE id = 2`, [rows[0]!.checksum]);
    }
  });
});
