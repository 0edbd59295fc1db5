import pg from 'pg';
import { databaseUnavailable } from '../../src/infrastructure/sql/sql-client.js';
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

describe('a PostgreSQL transaction whose connection the server ends between two statements', () => {
  it('fails, leaves the process running, and the next transaction gets a working connection', async () => {
    if (!targets().includes('postgres')) return expect(targets()).toEqual(['pglite']);
    const db = await openTestDatabase('postgres');
    try {
      const failed = db.client.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await admin.end();
        // The connection is gone now (the server said so on it, as an 'error' event: unheard, it ends the
        // process); this statement fails on it.
        await tx.query('SELECT 1');
      });
      const error = await failed.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      // Told from a statement's mistake: answered 503 DATABASE_UNAVAILABLE, not 500.
      expect(databaseUnavailable(error)).toBe(true);
      // The dead connection went out of the pool rather than to the next transaction.
      for (let i = 0; i < 4; i++) {
        expect(
          (await db.client.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).rows,
        ).toEqual([{ one: 1 }]);
      }
    } finally {
      await db.drop();
    }
  });

  it('tells a database that cannot be reached from a statement that is wrong', async () => {
    const refused = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    const error = await refused.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(databaseUnavailable(error)).toBe(true);
    expect(databaseUnavailable(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(databaseUnavailable(Object.assign(new Error('shutting down'), { code: '57P01' }))).toBe(true);
    expect(databaseUnavailable(Object.assign(new Error('unique'), { code: '23505' }))).toBe(false);
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
