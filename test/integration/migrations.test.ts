import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  migrate,
  MigrationError,
  packageRoot,
  readMigrations,
} from '../../src/infrastructure/migrations/migrator.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

describe.each(targets())('migrations on %s', (kind) => {
  let db: TestDatabase;
  let dir: string;
  beforeEach(async () => {
    db = await openTestDatabase(kind, { migrate: false });
    dir = mkdtempSync(join(tmpdir(), 'docsvc-migrations-'));
    cpSync(join(packageRoot(), 'migrations'), dir, { recursive: true });
  });
  afterEach(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every file once, in order, with its checksum', async () => {
    const first = await migrate(db.client, { dir });
    expect(first.applied).toEqual(readMigrations(dir).map((m) => m.name));
    expect((await migrate(db.client, { dir })).applied).toEqual([]);
    const { rows } = await db.client.query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM schema_migrations ORDER BY id',
    );
    expect(rows).toEqual(readMigrations(dir).map((m) => ({ name: m.name, checksum: m.checksum })));
    writeFileSync(join(dir, '0999_later.sql'), 'CREATE TABLE later_table (id int);');
    expect((await migrate(db.client, { dir })).applied).toEqual(['0999_later.sql']);
  });

  it('runs concurrently started migrations one at a time', async () => {
    const results = await Promise.all([migrate(db.client, { dir }), migrate(db.client, { dir })]);
    expect(results.flatMap((r) => r.applied)).toHaveLength(readMigrations(dir).length);
  });

  it('refuses to start when an applied migration was edited', async () => {
    await migrate(db.client, { dir });
    appendFileSync(join(dir, '0002_event_store.sql'), '\n-- an innocent-looking edit\n');
    await expect(migrate(db.client, { dir })).rejects.toThrow(MigrationError);
    await expect(migrate(db.client, { dir })).rejects.toThrow(
      /0002_event_store.sql was edited after it was applied/,
    );
  });

  it('refuses a database that has migrations this build does not know', async () => {
    writeFileSync(join(dir, '0999_later.sql'), 'SELECT 1;');
    await migrate(db.client, { dir });
    rmSync(join(dir, '0999_later.sql'));
    await expect(migrate(db.client, { dir })).rejects.toThrow(
      /0999_later.sql is applied to the database but missing from this build/,
    );
  });

  it('rolls back a failing migration entirely and records nothing for it', async () => {
    writeFileSync(
      join(dir, '0999_broken.sql'),
      'CREATE TABLE half_done (id int);\nSELECT no_such_function();',
    );
    await expect(migrate(db.client, { dir })).rejects.toThrow(/no_such_function/);
    const { rows } = await db.client.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM schema_migrations WHERE name = '0999_broken.sql')
            + (SELECT count(*)::int FROM information_schema.tables WHERE table_name = 'half_done') AS n`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('explains how to install a missing extension', async () => {
    await expect(
      migrate(db.client, { dir, requiredExtensions: ['vector', 'docsvc_missing_ext'] }),
    ).rejects.toThrow(/lacks the extension\(s\) docsvc_missing_ext/);
    await expect(migrate(db.client, { dir, requiredExtensions: ['vector'] })).resolves.toBeDefined();
  });

  it('refuses badly named files', async () => {
    writeFileSync(join(dir, '12-oops.sql'), 'SELECT 1;');
    await expect(migrate(db.client, { dir })).rejects.toThrow(/must be named NNNN_lower_snake.sql/);
  });
});
