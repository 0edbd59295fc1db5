import pg from 'pg';
import { until } from '../../reliability/faults/processes.js';
import { Child } from '../support/child.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { API_KEYS, KEYS } from '../support/service.js';

/**
 * `docsvc serve` stopped by SIGTERM while its projector is inside a statement that will not end by itself (it
 * waits for a lock this test holds, as a long vector CREATE INDEX would run): after SHUTDOWN_TIMEOUT_MS the
 * service ends its statements on the server, which frees the projector's advisory lock, and exits; the service
 * replacing it projects. Without the bound the process lived as long as its statement (issue 17: over two
 * minutes, its replacement unable to project). A PostgreSQL server is needed: the lock is held from another
 * connection.
 */
const TIMEOUT = 240_000;

async function serve(db: TestDatabase): Promise<{ child: Child; base: string }> {
  const child = Child.cli(['serve'], {
    ...db.env,
    API_KEYS,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'log',
    SHUTDOWN_TIMEOUT_MS: '1000',
  });
  const listening = /listening on port (\d+)/;
  const line = await child.waitFor((l) => listening.test(String(l.text ?? '')), 120_000);
  return { child, base: `http://127.0.0.1:${listening.exec(String(line.text))![1]}` };
}

async function post(base: string, path: string, body: unknown, key: string) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const exited = (child: Child) => child.process.exitCode !== null || child.process.signalCode !== null;

describe('SIGTERM while the projector is inside a statement that does not end', () => {
  let db: TestDatabase | undefined;
  let blocker: pg.Client | undefined;
  let watcher: pg.Client | undefined;
  const children: Child[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await blocker?.end().catch(() => undefined);
    await watcher?.end().catch(() => undefined);
    await db?.drop();
  });

  it(
    'ends the statement on the server within the bound and exits; the replacement projects',
    async () => {
      if (!targets().includes('postgres')) return expect(targets()).toEqual(['pglite']);
      db = await openTestDatabase('postgres');
      const first = await serve(db);
      children.push(first.child);
      blocker = new pg.Client({ connectionString: db.env.DATABASE_URL });
      await blocker.connect();
      await blocker.query('BEGIN');
      // SHARE blocks the projector's insert into chunks without giving this transaction an id: an ACCESS
      // EXCLUSIVE lock takes one, and an open transaction id holds the upload's event behind the store's
      // settled horizon, so the projector would never reach the lock.
      await blocker.query('LOCK TABLE chunks IN SHARE MODE');
      // Another connection watches: inside the blocker's transaction pg_stat_activity is one snapshot.
      watcher = new pg.Client({ connectionString: db.env.DATABASE_URL });
      await watcher.connect();
      const docsvcBackends = async (where: string) =>
        (
          await watcher!.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND application_name LIKE 'docsvc%' ${where}`,
          )
        ).rows[0]!.n;

      const upload = await post(
        first.base,
        '/documents',
        {
          coachId: 'carnivore',
          title: 'Sleep and protein',
          content: '# Sleep\n\nProtein before bed and deep sleep.',
          format: 'markdown',
          metadata: { documentType: 'guide', tags: ['sleep'], accessTier: 'free' },
        },
        KEYS.editor,
      );
      expect(upload.status).toBe(201);
      const waiting = async () => (await docsvcBackends(`AND wait_event_type = 'Lock'`)) > 0;
      await until(waiting, 60_000, 'the projector to wait on the held lock', 50);

      first.child.process.kill('SIGTERM');
      // The lock is still held: only ending the statement on the server lets the process exit.
      await until(() => exited(first.child), 60_000, 'the service to exit after SIGTERM', 50);
      // Its backends end on the server (a terminated one leaves pg_stat_activity as it exits).
      await until(async () => (await docsvcBackends('')) === 0, 60_000, "the service's backends to end", 50);

      await blocker.query('COMMIT');
      const replacement = await serve(db);
      children.push(replacement.child);
      const search = await post(
        replacement.base,
        '/search',
        { coachId: 'carnivore', query: 'deep sleep', mode: 'text', minPosition: upload.body.position },
        KEYS.admin,
      );
      expect(search.status).toBe(200);
      expect(JSON.stringify(search.body)).toContain('Sleep and protein');
    },
    TIMEOUT,
  );
});
