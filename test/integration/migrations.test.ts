import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('keeps chunk vectors in their rows from 0011 on, and VACUUM FULL moves older ones back in', async () => {
    // A 1,024-dimension vector (4 KB) with short text: above the 2 KB TOAST target, below a page.
    const insert = (id: number) =>
      db.client.query(
        `INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content,
           start_char, end_char, access_tier, document_type, tags, metadata, embedded_sha256, valid_from,
           valid_from_at, is_current, embedding)
         VALUES ('s', 'c', gen_random_uuid(), 'coach', 1, $1, 'T', 'short text', 0, 10, 'free', 'guide',
           '{a-tag-longer-than-a-toast-pointer}', '{}', repeat('0', 64), '1', now(), true,
           (SELECT array_agg(sin(i))::vector FROM generate_series(1, 1024) i))`,
        [id],
      );
    const toast = async () =>
      (
        await db.client.query<{ bytes: number }>(
          `SELECT pg_relation_size(reltoastrelid)::int AS bytes FROM pg_class WHERE relname = 'chunks'`,
        )
      ).rows[0]!.bytes;
    const name = '0011_inline_vectors.sql';
    const file = join(dir, name);
    const text = readFileSync(file);
    rmSync(file);
    await migrate(db.client, { dir });
    await insert(0);
    expect(await toast()).toBeGreaterThan(0); // before 0011: the vector went out of line
    writeFileSync(file, text);
    expect((await migrate(db.client, { dir })).applied).toEqual([name]);
    await db.client.exec('VACUUM FULL chunks');
    await insert(1);
    expect(await toast()).toBe(0);
    const { rows } = await db.client.query<{ dims: number }>(
      'SELECT vector_dims(embedding) AS dims FROM chunks ORDER BY chunk_index',
    );
    expect(rows).toEqual([{ dims: 1024 }, { dims: 1024 }]);
  });
});
