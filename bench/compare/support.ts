/**
 * What the comparison benchmarks under bench/compare share: fresh databases on the local server, the machine's
 * description, medians, and the markdown report (printed, and written to a file).
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import pg from 'pg';

export const serverUrl = (): string =>
  arg('database-url', process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export const quick = process.argv.includes('--quick');

export interface FreshDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(server: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the server of `server` (CREATE DATABASE, as createdb does); dropped by `drop`. */
export async function freshDatabase(server: string, label: string): Promise<FreshDatabase> {
  const name = `bench_cmp_${label}_${randomBytes(3).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      admin(server, async (c) => {
        // A peer's pool may still be closing its connections (emmett's, seen under 8 writers): terminated by
        // FORCE, an idle one raised an error event nothing listened to, and the run died. Wait for them first.
        for (let i = 0; i < 100; i++) {
          const { rows } = await c.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0]!.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

export async function serverVersion(server: string): Promise<string> {
  return admin(server, async (c) => {
    const { rows } = await c.query<{ pg: string; vector: string | null }>(
      `SELECT current_setting('server_version') AS pg,
              (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS vector`,
    );
    return `PostgreSQL ${rows[0]!.pg}, pgvector ${rows[0]!.vector ?? '?'}`;
  });
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]!;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

export const note = (s: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

/** A report: lines printed as they come, and written whole to `path` at the end. */
export class Report {
  private readonly lines: string[] = [];

  line(s = ''): void {
    console.log(s);
    this.lines.push(s);
  }

  table(
    head: readonly string[],
    rows: ReadonlyArray<readonly string[]>,
    align?: readonly ('l' | 'r')[],
  ): void {
    this.line(`| ${head.join(' | ')} |`);
    this.line(
      `|${head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---')).join('|')}|`,
    );
    for (const r of rows) this.line(`| ${r.join(' | ')} |`);
  }

  write(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${this.lines.join('\n')}\n`);
    note(`report written to ${path}`);
  }
}
