import type { SqlClient, SqlSession } from './sql-client.js';

/**
 * Runs `fn` holding a session-level advisory lock named `name`, on a session of its own (a crash closes the
 * session and frees the lock). Resolves with `{ ran: false }` at once when another session holds it: for work
 * that must run once at a time across processes (scheduled backups, maintenance).
 */
export async function withSessionLock<T>(
  sql: SqlClient,
  name: string,
  fn: (session: SqlSession) => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const session = await sql.session();
  try {
    if (!(await session.tryLock(name))) return { ran: false };
    try {
      return { ran: true, value: await fn(session) };
    } finally {
      await session.unlock(name).catch(() => undefined);
    }
  } finally {
    await session.release();
  }
}
