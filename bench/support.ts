import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../src/infrastructure/migrations/migrator.js';
import { PgSqlClient } from '../src/infrastructure/sql/pg-client.js';
import { PgliteSqlClient } from '../src/infrastructure/sql/pglite-client.js';
import type { SqlClient } from '../src/infrastructure/sql/sql-client.js';

export interface BenchDatabase {
  label: string;
  client: SqlClient;
  url?: string;
  dispose(): Promise<void>;
}

/** A fresh database for one benchmark run: a new database on the server, or PGlite on disk in a temp folder. */
export async function benchDatabase(kind: 'postgres' | 'pglite', serverUrl: string): Promise<BenchDatabase> {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'docsvc-bench-'));
    const client = await PgliteSqlClient.open(dir);
    await migrate(client);
    return {
      label: 'PGlite 0.5.14 (on disk)',
      client,
      async dispose() {
        await client.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `docsvc_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!
    .v;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const client = new PgSqlClient(url.toString(), 16);
  await migrate(client);
  return {
    label: `PostgreSQL ${version}`,
    client,
    url: url.toString(),
    async dispose() {
      await client.close();
      // --keep leaves the database for a look afterwards (psql, EXPLAIN, index experiments).
      if (process.argv.includes('--keep')) return void console.error(`kept database ${name}`);
      const a = new pg.Client({ connectionString: serverUrl });
      await a.connect();
      await a.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The port a started service logs that it listens on (PORT=0); rejects with its output if it exits first. */
export function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`service exited ${code}: ${out.slice(-2000)}`)));
  });
}
