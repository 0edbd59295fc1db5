/**
 * The PostgreSQL of the fault checks: fresh databases on a server (never that server's own databases), and a
 * private cluster (scenario c) that may be stopped and started.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createServerDatabase, dropServerDatabase } from '../../test/support/databases.js';
import { runCli, type CliRunner } from './processes.js';

export interface Database {
  url: string;
  name: string;
  pool: pg.Pool;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>;
  drop(): Promise<void>;
}

/** A new database on the server `serverUrl` names (never that server's own databases); migrated by `docsvc migrate`. */
export async function freshDatabase(
  serverUrl: string,
  cli: CliRunner,
  env: Record<string, string>,
): Promise<Database> {
  const { name, url } = await createServerDatabase(serverUrl, 'docsvc_faults');
  const migrated = await runCli(cli, ['migrate'], { ...env, DATABASE_URL: url.toString() });
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    name,
    pool,
    query: async (text, params) => (await pool.query(text, params)).rows,
    async drop() {
      await pool.end().catch(() => undefined);
      await dropServerDatabase(serverUrl, name);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// A private PostgreSQL cluster (scenario c): its own data directory and port, stopped and started at will.

export interface Cluster {
  port: number;
  url: string;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Whether this machine has PostgreSQL's server programs for a private cluster (PG_BIN, Debian's place by default). */
export const privateClusterPossible = (): boolean => existsSync(join(PG_BIN, 'pg_ctl'));

function sh(cmd: string, args: string[]): Promise<string> {
  // As root, PostgreSQL's tools refuse to run: they run as the postgres user, who owns the directory.
  const [file, argv] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) =>
    execFile(file, argv, { timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} ${args.join(' ')}: ${error.message} ${stderr}`)) : resolve(stdout),
    ),
  );
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function privateCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'docsvc-faults-pg-'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await sh(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=60`;
  const start = () =>
    sh(join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', 'start']);
  await start();
  return {
    port,
    dir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => void (await sh(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])),
    start: async () => void (await start()),
    async destroy() {
      await sh(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user to run the private cluster as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
