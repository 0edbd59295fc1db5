import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { DataDirLock } from './data-dir-lock.js';
import type { QueryResult, SqlClient, SqlExecutor, SqlSession } from './sql-client.js';
import { VectorArray } from './vector-array.js';

type PgliteLike = Pick<PGlite, 'query'> | Transaction;

async function run<R>(on: PgliteLike, text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const values = params?.map((p) => (p instanceof VectorArray ? p.text() : p));
  const result = await on.query<R>(text, values);
  return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
}

/**
 * PGlite has a single database session, shared by everything in this process; it serialises queries and
 * transactions itself. Advisory locks would be re-entrant in one session, so "sessions" here take their named
 * locks from an in-process table instead — the same exclusion the server gives across connections.
 */
export class PgliteSqlClient implements SqlClient {
  readonly kind = 'pglite' as const;
  private readonly heldLocks = new Map<string, PgliteSession>();

  private constructor(
    readonly db: PGlite,
    private readonly lock: DataDirLock | undefined,
  ) {}

  /**
   * `dataDir` undefined = in memory (tests). PostgreSQL's default 128 MB of shared buffers would live in the
   * process's own heap here; 16 MB keeps an idle embedded service near 170 MB (BENCHMARKS.md).
   */
  static async open(dataDir?: string, sharedBuffers = '16MB'): Promise<PgliteSqlClient> {
    const lock = dataDir ? DataDirLock.acquire(dataDir) : undefined;
    try {
      const create = () =>
        new PGlite(dataDir ? `${dataDir}/pgdata` : 'memory://', {
          extensions: { vector },
          postgresqlconf: [`shared_buffers=${sharedBuffers}`],
        });
      if (dataDir && !existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))) {
        // initdb leaves several hundred MB in the instance that ran it; a fresh instance starts lean.
        await create().close();
      }
      const db = create();
      await db.waitReady;
      return new PgliteSqlClient(db, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  query<R>(text: string, params?: readonly unknown[]) {
    return run<R>(this.db, text, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) =>
      fn({
        query: (text, params) => run(tx, text, params),
        exec: async (script) => void (await tx.exec(script)),
      }),
    );
  }

  async exec(script: string) {
    await this.db.exec(script);
  }

  async session(): Promise<SqlSession> {
    return new PgliteSession(this, this.heldLocks);
  }

  async close() {
    if (!this.db.closed) await this.db.close();
    this.lock?.release();
  }
}

class PgliteSession implements SqlSession {
  private readonly mine = new Set<string>();

  constructor(
    private readonly client: PgliteSqlClient,
    private readonly locks: Map<string, PgliteSession>,
  ) {}

  query<R>(text: string, params?: readonly unknown[]) {
    return this.client.query<R>(text, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
    return this.client.transaction(fn);
  }

  exec(script: string) {
    return this.client.exec(script);
  }

  async tryLock(name: string) {
    const holder = this.locks.get(name);
    if (holder && holder !== this) return false;
    this.locks.set(name, this);
    this.mine.add(name);
    return true;
  }

  async unlock(name: string) {
    if (this.locks.get(name) === this) this.locks.delete(name);
    this.mine.delete(name);
  }

  async listen(channel: string, onNotify: (payload: string) => void) {
    const unsubscribe = await this.client.db.listen(channel, onNotify);
    return async () => {
      if (!this.client.db.closed) await unsubscribe();
    };
  }

  onError(): void {
    // The embedded database lives and dies with this process; there is no connection to lose.
  }

  async release() {
    for (const name of [...this.mine]) await this.unlock(name);
  }
}
