import pg from 'pg';
import type { QueryResult, SqlClient, SqlExecutor, SqlSession } from './sql-client.js';

type Queryable = pg.Pool | pg.PoolClient | pg.Client;

async function run<R>(on: Queryable, text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const result = await on.query(text, params as unknown[] | undefined);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}

function executor(on: Queryable): SqlExecutor {
  return {
    query: (text, params) => run(on, text, params),
    exec: async (script) => void (await on.query(script)),
  };
}

async function inTransaction<T>(
  client: pg.PoolClient | pg.Client,
  fn: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(executor(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Lock names become one 64-bit key; hashtextextended is stable across PostgreSQL versions. */
const LOCK_KEY = 'hashtextextended($1, 0)';

class PgSession implements SqlSession {
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();

  constructor(private readonly client: pg.Client) {
    client.on('notification', (msg) =>
      this.listeners.get(msg.channel)?.forEach((cb) => cb(msg.payload ?? '')),
    );
  }

  query<R>(text: string, params?: readonly unknown[]) {
    return run<R>(this.client, text, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
    return inTransaction(this.client, fn);
  }

  async exec(script: string) {
    await this.client.query(script);
  }

  async tryLock(name: string) {
    const { rows } = await this.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`, [
      name,
    ]);
    return rows[0]?.ok === true;
  }

  async unlock(name: string) {
    await this.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [name]);
  }

  async listen(channel: string, onNotify: (payload: string) => void) {
    const set = this.listeners.get(channel) ?? new Set();
    if (set.size === 0) await this.client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    set.add(onNotify);
    this.listeners.set(channel, set);
    return async () => {
      set.delete(onNotify);
      if (set.size === 0)
        await this.client.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    };
  }

  onError(handler: (error: Error) => void) {
    this.client.on('error', handler);
    this.client.on('end', () => handler(new Error('database session ended')));
  }

  async release() {
    await this.client.end().catch(() => undefined);
  }
}

export class PgSqlClient implements SqlClient {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(
    private readonly connectionString: string,
    poolSize = 10,
  ) {
    this.pool = new pg.Pool({ connectionString, max: poolSize, application_name: 'docsvc' });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  query<R>(text: string, params?: readonly unknown[]) {
    return run<R>(this.pool, text, params);
  }

  async exec(script: string) {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
    const client = await this.pool.connect();
    try {
      return await inTransaction(client, fn);
    } finally {
      client.release();
    }
  }

  /** Sessions are separate connections outside the pool so long-lived locks never starve request traffic. */
  async session(): Promise<SqlSession> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'docsvc-session',
    });
    await client.connect();
    return new PgSession(client);
  }

  async close() {
    await this.pool.end();
  }
}
