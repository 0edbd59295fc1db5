import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../clock/clock.js';
import type { QueryResult, SqlClient, SqlExecutor, SqlSession } from '../sql/sql-client.js';
import { StatementTimings } from './statement-timings.js';

/**
 * The SQL port with every statement timed into `timings`: the queries and scripts of the client, of its
 * transactions and of its sessions. Statements that fail are not recorded (pg_stat_statements does not count
 * them either). Everything else is the wrapped client's own behaviour.
 */
export class TimedSqlClient implements SqlClient {
  readonly kind: SqlClient['kind'];

  constructor(
    private readonly inner: SqlClient,
    readonly timings: StatementTimings,
  ) {
    this.kind = inner.kind;
  }

  /** `sql` timed from now on, keeping statements of at least `thresholdMs` (SLOW_QUERY_MS). */
  static over(sql: SqlClient, thresholdMs: number, clock: Clock = systemClock): TimedSqlClient {
    return new TimedSqlClient(sql, new StatementTimings(thresholdMs, clock.now()));
  }

  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return timedQuery(this.inner, this.timings, text, params);
  }

  exec(script: string): Promise<void> {
    return timedExec(this.inner, this.timings, script);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(timedExecutor(tx, this.timings)));
  }

  async session(): Promise<SqlSession> {
    return new TimedSession(await this.inner.session(), this.timings);
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

class TimedSession implements SqlSession {
  constructor(
    private readonly inner: SqlSession,
    private readonly timings: StatementTimings,
  ) {}

  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return timedQuery(this.inner, this.timings, text, params);
  }

  exec(script: string): Promise<void> {
    return timedExec(this.inner, this.timings, script);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(timedExecutor(tx, this.timings)));
  }

  tryLock(name: string): Promise<boolean> {
    return this.inner.tryLock(name);
  }

  unlock(name: string): Promise<void> {
    return this.inner.unlock(name);
  }

  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    return this.inner.listen(channel, onNotify);
  }

  onError(handler: (error: Error) => void): void {
    this.inner.onError(handler);
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}

function timedExecutor(inner: SqlExecutor, timings: StatementTimings): SqlExecutor {
  return {
    query: (text, params) => timedQuery(inner, timings, text, params),
    exec: (script) => timedExec(inner, timings, script),
  };
}

async function timedQuery<R>(
  on: SqlExecutor,
  timings: StatementTimings,
  text: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  const started = performance.now();
  const result = await on.query<R>(text, params);
  timings.record(text, performance.now() - started, Math.max(result.rows.length, result.rowCount));
  return result;
}

async function timedExec(on: SqlExecutor, timings: StatementTimings, script: string): Promise<void> {
  const started = performance.now();
  await on.exec(script);
  timings.record(script, performance.now() - started, 0);
}
