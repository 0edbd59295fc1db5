import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isBackgroundWork } from './background-work.js';
import { DataDirLock } from './data-dir-lock.js';
import { PgliteThread } from './pglite-thread.js';
import type { QueryResult, SqlClient, SqlExecutor, SqlSession } from './sql-client.js';
import { VectorArray } from './vector-array.js';

/**
 * PGlite runs PostgreSQL compiled to WebAssembly, and a statement runs synchronously on the thread that owns
 * the instance: on the main thread, one long statement (writing a large document's chunks, building the vector
 * index) stopped every HTTP request of the process for its whole length. So the instance lives in a worker
 * thread (pglite-worker.ts) and this client sends it each statement.
 *
 * PGlite has a single database session, shared by everything in this process; it serialises queries and
 * transactions itself. Advisory locks would be re-entrant in one session, so "sessions" here take their named
 * locks from an in-process table instead — the same exclusion the server gives across connections.
 *
 * The one session also has to be shared fairly. A search is several statements in a row; between two of them
 * the projector's next step (a transaction of up to a few seconds) would take the session, so one search waited
 * behind several steps. So the transactions of background work (the projectors, background-work.ts) wait until
 * the requests' statements have been quiet for FOREGROUND_GAP_MS (longer than the gap between two statements of
 * one request), but never longer than BACKGROUND_MAX_WAIT_MS, so that projecting goes on under any load.
 */
export const FOREGROUND_GAP_MS = 5;
export const BACKGROUND_MAX_WAIT_MS = 100;

export class PgliteSqlClient implements SqlClient {
  readonly kind = 'pglite' as const;
  private readonly heldLocks = new Map<string, PgliteSession>();
  private foreground = 0;
  private lastForeground = 0;

  private constructor(
    readonly thread: PgliteThread,
    private readonly lock: DataDirLock | undefined,
    private readonly backgroundMaxWaitMs: number,
  ) {}

  /**
   * `dataDir` undefined = in memory (tests). PostgreSQL's default 128 MB of shared buffers would live in the
   * process's own memory here; 16 MB keeps an idle embedded service near 170 MB (BENCHMARKS.md).
   */
  static async open(
    dataDir?: string,
    sharedBuffers = '16MB',
    backgroundMaxWaitMs = BACKGROUND_MAX_WAIT_MS,
  ): Promise<PgliteSqlClient> {
    const lock = dataDir ? DataDirLock.acquire(dataDir) : undefined;
    try {
      // initdb leaves about 190 MB in the thread that ran it, and a new instance in the same thread did not give
      // it back: a new database is created in a thread of its own, which ends with its memory.
      if (dataDir && !existsSync(join(dataDir, 'pgdata', 'PG_VERSION')))
        await (await PgliteThread.start({ dataDir, sharedBuffers })).close();
      return new PgliteSqlClient(
        await PgliteThread.start({ dataDir, sharedBuffers }),
        lock,
        backgroundMaxWaitMs,
      );
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  get closed(): boolean {
    return this.thread.closed;
  }

  query<R>(text: string, params?: readonly unknown[]) {
    return this.counted(() => runOn<R>(this.thread, undefined, text, params));
  }

  /** Same contract as PGlite's `transaction`: commits when `fn` resolves, rolls back when it throws. */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (isBackgroundWork()) await this.requestsQuiet();
    return this.counted(() => this.run(fn));
  }

  /** A request's statement is counted (a background one is not, and goes at once: its reads are short). */
  private counted<T>(work: () => Promise<T>): Promise<T> {
    return isBackgroundWork() ? work() : this.inForeground(work);
  }

  /** Resolves once the requests' statements have been quiet for FOREGROUND_GAP_MS, or after the bound. */
  private async requestsQuiet(): Promise<void> {
    const since = performance.now();
    for (;;) {
      const quiet = performance.now() - this.lastForeground;
      if (this.foreground === 0 && quiet >= FOREGROUND_GAP_MS) break;
      if (performance.now() - since >= this.backgroundMaxWaitMs) break;
      await new Promise((resolve) => setTimeout(resolve, FOREGROUND_GAP_MS));
    }
  }

  private async inForeground<T>(work: () => Promise<T>): Promise<T> {
    this.foreground++;
    try {
      return await work();
    } finally {
      this.foreground--;
      this.lastForeground = performance.now();
    }
  }

  private async run<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const tx = (await this.thread.call({ op: 'begin' })) as number;
    let result: T;
    try {
      result = await fn({
        query: (text, params) => runOn(this.thread, tx, text, params),
        exec: async (script) => void (await this.thread.call({ op: 'exec', tx, script })),
      });
    } catch (error) {
      await this.thread.call({ op: 'end', tx, commit: false }).catch(() => undefined);
      throw error;
    }
    await this.thread.call({ op: 'end', tx, commit: true });
    return result;
  }

  async exec(script: string) {
    await this.counted(() => this.thread.call({ op: 'exec', script }));
  }

  async session(): Promise<SqlSession> {
    return new PgliteSession(this, this.heldLocks);
  }

  /**
   * Nothing to end from outside: the embedded database runs in this process, on its own thread, and its locks
   * end with the process (one process per DATA_DIR). close() ends the thread.
   */
  async abort() {}

  async close() {
    await this.thread.close();
    this.lock?.release();
  }
}

async function runOn<R>(
  thread: PgliteThread,
  tx: number | undefined,
  text: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  const values = params?.map((p) => (p instanceof VectorArray ? p.text() : p));
  const result = (await thread.call({ op: 'query', tx, text, params: values })) as QueryResult<R>;
  for (const row of result.rows as Array<Record<string, unknown>>)
    for (const key in row) if (typeof row[key] === 'object' && row[key] !== null) row[key] = local(row[key]);
  return result;
}

/**
 * A Date or byte array made by the message channel belongs to Node's main realm; code running in another realm
 * (Jest's test context) checks `instanceof Date` against its own. The in-process client made them where its
 * module was loaded, so they are made again here.
 */
function local(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(local);
  if (Object.prototype.toString.call(value) === '[object Date]') return new Date((value as Date).getTime());
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return value;
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
    return this.client.thread.listen(channel, onNotify);
  }

  onError(): void {
    // The embedded database lives and dies with this process; there is no connection to lose.
  }

  async release() {
    for (const name of [...this.mine]) await this.unlock(name);
  }
}
