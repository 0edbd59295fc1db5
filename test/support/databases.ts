import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/infrastructure/migrations/migrator.js';
import { PgSqlClient } from '../../src/infrastructure/sql/pg-client.js';
import { PgliteSqlClient } from '../../src/infrastructure/sql/pglite-client.js';
import type { SqlClient } from '../../src/infrastructure/sql/sql-client.js';

export type TargetKind = 'pglite' | 'postgres';

/** Every integration test runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set (.ci/run sets it). */
export function targets(): TargetKind[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase {
  kind: TargetKind;
  client: SqlClient;
  /** Environment that points a child process or the service at this database. */
  env: Record<string, string>;
  /** Closes the client; the database itself stays until `drop`. */
  close(): Promise<void>;
  drop(): Promise<void>;
}

export interface OpenOptions {
  migrate?: boolean;
  /** PGlite on disk (for child processes) instead of in memory. */
  onDisk?: boolean;
}

/** A fresh, empty database per call: a new PostgreSQL database, or a new PGlite instance. */
export async function openTestDatabase(kind: TargetKind, options: OpenOptions = {}): Promise<TestDatabase> {
  const db = kind === 'postgres' ? await freshPostgres() : await freshPglite(options.onDisk ?? false);
  try {
    if (options.migrate ?? true) await migrate(db.client);
  } catch (error) {
    await db.drop();
    throw error;
  }
  return db;
}

/** A new database named `<prefix>_<random>` on the server `serverUrl` names; its name and URL. */
export async function createServerDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ name: string; url: URL }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { name, url };
}

/** Drops a database createServerDatabase made, whoever is still connected to it. */
export async function dropServerDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function freshPostgres(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const { name, url } = await createServerDatabase(adminUrl, 'docsvc_test');
  const client = new PgSqlClient(url.toString(), 20);
  return {
    kind: 'postgres',
    client,
    env: { DATABASE_URL: url.toString() },
    close: () => client.close(),
    async drop() {
      await client.close().catch(() => undefined);
      await dropServerDatabase(adminUrl, name);
    },
  };
}

async function freshPglite(onDisk: boolean): Promise<TestDatabase> {
  const dataDir = onDisk ? mkdtempSync(join(tmpdir(), 'docsvc-test-')) : undefined;
  let client: PgliteSqlClient = await PgliteSqlClient.open(dataDir);
  const db: TestDatabase = {
    kind: 'pglite',
    get client() {
      return client;
    },
    env: dataDir ? { DATA_DIR: dataDir } : {},
    close: () => client.close(),
    async drop() {
      await client.close().catch(() => undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return Object.assign(db, {
    /** PGlite on disk is one process at a time: close it to hand the files to a child, reopen after. */
    async reopen() {
      client = await PgliteSqlClient.open(dataDir);
    },
  });
}

export async function reopen(db: TestDatabase): Promise<void> {
  if (db.kind === 'pglite') await (db as TestDatabase & { reopen(): Promise<void> }).reopen();
}
