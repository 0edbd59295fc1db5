/** Measuring helpers shared by both peers: databases, memory, percentiles, exact nearest neighbours. */
import { readFileSync } from 'node:fs';
import pg from 'pg';

export const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function urlOf(db: string): string {
  const url = new URL(SERVER);
  url.pathname = `/${db}`;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database (dropped first if a failed run left it), with pgvector. */
export async function freshDatabase(name: string): Promise<string> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const c = new pg.Client({ connectionString: urlOf(name) });
  await c.connect();
  await c.query('CREATE EXTENSION IF NOT EXISTS vector');
  await c.end();
  return urlOf(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function databaseMb(name: string): Promise<number> {
  return admin(async (c) => {
    const { rows } = await c.query<{ b: string }>('SELECT pg_database_size($1)::text AS b', [name]);
    return Number(rows[0]!.b) / 2 ** 20;
  });
}

export async function serverInfo(): Promise<string> {
  return admin(async (c) => {
    const { rows } = await c.query<{ v: string; e: string }>(
      `SELECT current_setting('server_version') AS v,
        (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS e`,
    );
    return `PostgreSQL ${rows[0]!.v}, pgvector ${rows[0]!.e}`;
  });
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process has gone
  }
}

/** A process's peak resident set (VmHWM), MB. */
export function peakRssMb(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

/**
 * Samples the private memory (RssAnon: shared buffers are counted once for the server, not per backend) of
 * every PostgreSQL backend connected to a database, and keeps the peak of their sum.
 */
export class BackendMemory {
  peakMb = 0;
  private timer?: NodeJS.Timeout;
  private client?: pg.Client;
  private busy = false;

  async start(db: string): Promise<void> {
    this.client = new pg.Client({ connectionString: SERVER });
    await this.client.connect();
    this.timer = setInterval(() => void this.sample(db), 250);
  }

  private async sample(db: string): Promise<void> {
    if (this.busy || !this.client) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1',
        [db],
      );
      const kb = rows.reduce((s, r) => s + statusKb(r.pid, 'RssAnon'), 0);
      this.peakMb = Math.max(this.peakMb, kb / 1024);
    } catch {
      // a sample lost while the database is dropped or busy: the next one counts
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<number> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    await this.client?.end();
    this.client = undefined;
    return this.peakMb;
  }
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
}

export function median(values: number[]): number {
  return percentile(values, 0.5);
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function vectorLiteral(v: Float32Array): string {
  return `[${Array.from(v).join(',')}]`;
}

/**
 * The k-th smallest cosine distance from `query` in a table, computed exactly (no index scan): a result is a true
 * nearest neighbour when its distance is at most this (ties at the k-th distance all count).
 */
export async function exactKth(
  c: pg.Client,
  from: string,
  column: string,
  query: string,
  k: number,
): Promise<number> {
  await c.query('BEGIN');
  try {
    await c.query('SET LOCAL enable_indexscan = off');
    await c.query('SET LOCAL enable_bitmapscan = off');
    const { rows } = await c.query<{ d: number }>(
      `SELECT ${column} <=> $1::vector AS d FROM ${from} ORDER BY d LIMIT ${k}`,
      [query],
    );
    return rows[rows.length - 1]!.d;
  } finally {
    await c.query('COMMIT');
  }
}

/** recall@k of a result list's distances against the exact k-th distance. */
export function recallOf(distances: number[], kth: number, k: number): number {
  return distances.slice(0, k).filter((d) => d <= kth + 1e-6).length / k;
}

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
}
