import pg from 'pg';
import { openTestDatabase, targets } from '../support/databases.js';

describe('a PostgreSQL session whose connection the server ends', () => {
  it('fails its statement and leaves the process running', async () => {
    // PGlite has no server to end a session; the PostgreSQL pass of .ci/run runs this.
    if (!targets().includes('postgres')) return expect(targets()).toEqual(['pglite']);
    const db = await openTestDatabase('postgres');
    const session = await db.client.session();
    try {
      const { rows } = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const running = session.query('SELECT pg_sleep(30)');
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      // Without a listener, node-postgres raises the lost connection as an 'error' event and the process ends.
      await expect(running).rejects.toThrow(/terminat/);
      await expect(session.query('SELECT 1')).rejects.toThrow();
    } finally {
      await session.release().catch(() => undefined);
      await db.drop();
    }
  });
});

describe('abort() of a PostgreSQL client', () => {
  it('ends a statement still running and frees the advisory lock its session held', async () => {
    // PGlite has no server to hold a lock across processes; the PostgreSQL pass of .ci/run runs this.
    if (!targets().includes('postgres')) return expect(targets()).toEqual(['pglite']);
    const db = await openTestDatabase('postgres');
    const other = await db.client.session();
    const session = await db.client.session();
    try {
      expect(await session.tryLock('docsvc:test:abort')).toBe(true);
      const running = session.query('SELECT pg_sleep(600)');
      expect(await other.tryLock('docsvc:test:abort')).toBe(false);
      await db.client.abort();
      await expect(running).rejects.toThrow(/terminat/);
      // The replacement takes the lock at once, not when the statement would have ended.
      const next = await db.client.session();
      expect(await next.tryLock('docsvc:test:abort')).toBe(true);
      await next.release();
    } finally {
      await session.release().catch(() => undefined);
      await other.release().catch(() => undefined);
      await db.drop();
    }
  });
});
