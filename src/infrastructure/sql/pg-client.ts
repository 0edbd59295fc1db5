import pg from 'pg';
import type { QueryResult, SqlClient, SqlExecutor, SqlSession } from './sql-client.js';
import { VectorArray } from './vector-array.js';

type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/**
 * The OID of pgvector's `vector` type in one database (an extension's types get theirs when it is created), for
 * the binary `vector[]` parameters; looked up on first use.
 */
class VectorOid {
  private oid: Promise<number> | undefined;

  get(on: Queryable): Promise<number> {
    this.oid ??= on
      .query<{ oid: number }>(`SELECT 'vector'::regtype::oid::int AS oid`)
      .then((r) => r.rows[0]!.oid)
      .catch((error: unknown) => {
        this.oid = undefined;
        throw error;
      });
    return this.oid;
  }
}

async function run<R>(
  on: Queryable,
  vectorOid: VectorOid,
  text: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  let values = params as unknown[] | undefined;
  if (values?.some((p) => p instanceof VectorArray)) {
    const oid = await vectorOid.get(on);
    // node-postgres sends a Buffer parameter in binary format; the server reads it with array_recv/vector_recv.
    values = values.map((p) => (p instanceof VectorArray ? p.binary(oid) : p));
  }
  const result = await on.query(text, values);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}

function executor(on: Queryable, vectorOid: VectorOid): SqlExecutor {
  return {
    query: (text, params) => run(on, vectorOid, text, params),
    exec: async (script) => void (await on.query(script)),
  };
}

async function inTransaction<T>(
  client: pg.PoolClient | pg.Client,
  vectorOid: VectorOid,
  fn: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(executor(client, vectorOid));
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

  constructor(
    private readonly client: pg.Client,
    private readonly vectorOid: VectorOid,
  ) {
    client.on('notification', (msg) =>
      this.listeners.get(msg.channel)?.forEach((cb) => cb(msg.payload ?? '')),
    );
  }

  query<R>(text: string, params?: readonly unknown[]) {
    return run<R>(this.client, this.vectorOid, text, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
    return inTransaction(this.client, this.vectorOid, fn);
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
  private readonly vectorOid = new VectorOid();
  /** Every connection this client has open (pool and sessions), for abort(). */
  private readonly connections = new Set<pg.Client>();

  constructor(
    private readonly connectionString: string,
    poolSize = 10,
  ) {
    this.pool = new pg.Pool({ connectionString, max: poolSize, application_name: 'docsvc' });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => this.connections.add(client));
    this.pool.on('remove', (client) => this.connections.delete(client));
  }

  query<R>(text: string, params?: readonly unknown[]) {
    return run<R>(this.pool, this.vectorOid, text, params);
  }

  async exec(script: string) {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
    const client = await this.pool.connect();
    // A checked-out client has no 'error' listener (the pool removes its idle one): a connection the server ends
    // between two statements (a restart, a failover, pg_terminate_backend) was an unhandled 'error' event, which
    // ended the process. Heard here, the connection is thrown away instead of going back to the pool.
    let lost: Error | undefined;
    const onError = (error: Error) => void (lost = error);
    client.on('error', onError);
    try {
      return await inTransaction(client, this.vectorOid, fn);
    } finally {
      client.removeListener('error', onError);
      client.release(lost);
    }
  }

  /** Sessions are separate connections outside the pool so long-lived locks never starve request traffic. */
  async session(): Promise<SqlSession> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'docsvc-session',
    });
    // A lost connection (a server restart, an administrator's kill) fails the statement running on it; without a
    // listener node-postgres would also raise it as an 'error' event, which ends the process.
    client.on('error', () => undefined);
    await client.connect();
    this.connections.add(client);
    client.on('end', () => this.connections.delete(client));
    return new PgSession(client, this.vectorOid);
  }

  /**
   * Ends every connection of this client on the server (pg_terminate_backend, from a connection of its own): a
   * statement still running there (a vector CREATE INDEX) is rolled back and every lock its session held (a
   * projector's advisory lock) is freed at once, where closing the socket alone would leave the server working
   * until the statement ends. For a shutdown that must not wait for long statements.
   */
  async abort() {
    const pids = [...this.connections].map((c) => (c as unknown as { processID?: number }).processID);
    const known = pids.filter((pid): pid is number => typeof pid === 'number');
    if (known.length === 0) return;
    const admin = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'docsvc-abort',
    });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [known]);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async close() {
    await this.pool.end();
  }
}
