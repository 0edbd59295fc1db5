import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from '../sql/sql-client.js';

/**
 * Numbered `.sql` files, applied in order, each once and in its own transaction, recorded with a SHA-256 of
 * their text. An applied file that was edited, or an applied file missing from this build, stops start-up:
 * the schema would no longer be what the code expects. Processes starting together take turns by a lock.
 */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrationFile {
  id: number;
  name: string;
  checksum: string;
  sql: string;
}

export interface MigrateOptions {
  dir?: string;
  /** Extensions the migrations create; checked first so that a missing one gets install instructions. */
  requiredExtensions?: readonly string[];
  lockTimeoutMs?: number;
}

const INSTALL_HINT: Record<string, string> = {
  vector:
    'pgvector 0.8+ is needed. On Debian/Ubuntu: apt-get install postgresql-<major>-pgvector where the package exists; ' +
    "on Debian bookworm run scripts/install-pgvector.sh (builds Debian's pgvector source package); " +
    'elsewhere see https://github.com/pgvector/pgvector#installation. Or unset DATABASE_URL to use the embedded database.',
};

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'migrations')) || !existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new MigrationError('cannot find the migrations folder above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export function readMigrations(dir = join(packageRoot(), 'migrations')): MigrationFile[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((name) => {
    const match = /^(\d{4})_[a-z0-9_]+\.sql$/.exec(name);
    if (!match) throw new MigrationError(`migration file ${name} must be named NNNN_lower_snake.sql`);
    const id = Number(match[1]);
    if (seen.has(id)) throw new MigrationError(`two migrations are numbered ${match[1]}`);
    seen.add(id);
    const sql = readFileSync(join(dir, name), 'utf8');
    return { id, name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

export async function migrate(
  client: SqlClient,
  options: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  const files = readMigrations(options.dir);
  const session = await client.session();
  try {
    await takeLock(session, options.lockTimeoutMs ?? 60_000);
    await checkExtensions(client, options.requiredExtensions ?? ['vector']);
    await client.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ id: number; name: string; checksum: string }>(
      'SELECT id, name, checksum FROM schema_migrations ORDER BY id',
    );
    verifyApplied(rows, files);
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const file of files.filter((f) => !done.has(f.id))) {
      await client.transaction(async (tx) => {
        await tx.exec(file.sql);
        await tx.query('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [
          file.id,
          file.name,
          file.checksum,
        ]);
      });
      applied.push(file.name);
    }
    return { applied };
  } finally {
    await session.unlock('docsvc:migrations').catch(() => undefined);
    await session.release();
  }
}

function verifyApplied(
  applied: Array<{ id: number; name: string; checksum: string }>,
  files: MigrationFile[],
): void {
  const byId = new Map(files.map((f) => [f.id, f]));
  for (const row of applied) {
    const file = byId.get(row.id);
    if (!file) {
      throw new MigrationError(
        `migration ${row.name} is applied to the database but missing from this build (is the database newer than the code?)`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${file.name} was edited after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ` +
          `${file.checksum.slice(0, 12)}… on disk). Applied migrations are immutable: restore the file and add a new migration.`,
      );
    }
  }
}

async function takeLock(
  session: Awaited<ReturnType<SqlClient['session']>>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await session.tryLock('docsvc:migrations'))) {
    if (Date.now() > deadline)
      throw new MigrationError(`another process has been migrating for over ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function checkExtensions(client: SqlClient, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_available_extensions');
  const missing = names.filter((n) => !rows.some((r) => r.name === n));
  if (missing.length > 0) {
    throw new MigrationError(
      `the PostgreSQL server lacks the extension(s) ${missing.join(', ')}. ` +
        missing.map((n) => INSTALL_HINT[n] ?? '').join(' '),
    );
  }
}
