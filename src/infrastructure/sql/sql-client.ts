/**
 * The one SQL port. Two adapters implement it: a `pg` pool for DATABASE_URL and PGlite (PostgreSQL in-process,
 * with pgvector) for DATA_DIR. Query text is PostgreSQL with `$n` parameters; 64-bit integers are read as text
 * (cast them in SQL) so both adapters return the same shapes.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface SqlExecutor {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** A dedicated database session: advisory locks and LISTEN live as long as it does. */
export interface SqlSession extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** A session-level advisory lock named by a string; false when another session holds it. */
  tryLock(name: string): Promise<boolean>;
  unlock(name: string): Promise<void>;
  /** Calls `onNotify` for each NOTIFY on `channel`; returns the unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Called when the session's connection is lost (server restart, network, kill). */
  onError(handler: (error: Error) => void): void;
  release(): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  session(): Promise<SqlSession>;
  /** Ends the statements still running and frees the locks held, without waiting for them (a bounded shutdown). */
  abort(): Promise<void>;
  close(): Promise<void>;
}

export const SQL_CLIENT = Symbol('SQL_CLIENT');

/** PostgreSQL's SQLSTATE of an error from either adapter, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Whether an error says the database cannot be reached right now (not that a statement was wrong): a refused or
 * broken connection, SQLSTATE class 08 (connection exception), 57P01–57P03 (shutting down, cannot connect now),
 * 53300 (too many connections). Answered 503 with Retry-After, not 500.
 */
export function databaseUnavailable(error: unknown): boolean {
  // Duck-typed: errors made by Node's own modules may come from another realm than this module's `Error`.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
  const state = sqlState(error);
  if (state && /^(08|57P0[123]$|53300$)/.test(state)) return true;
  return (
    typeof message === 'string' &&
    /^(Connection terminated|Client has encountered a connection error|Connection ended)/i.test(message)
  );
}

export function constraintName(error: unknown): string | undefined {
  const c = (error as { constraint?: unknown } | null)?.constraint;
  return typeof c === 'string' ? c : undefined;
}
