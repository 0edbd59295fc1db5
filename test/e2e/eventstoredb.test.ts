import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runBackup } from '../../src/cli/backup-commands.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { EsdbEventStore } from '../../src/infrastructure/event-store/esdb/esdb-event-store.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { startService, testEventStore, type TestService } from '../support/service.js';

const doc = (content: string, coachId = 'carnivore') => ({
  coachId,
  title: 'Satiety and protein',
  content,
  metadata: { documentType: 'research', tags: ['protein'], accessTier: 'free' },
});

/**
 * What PostgreSQL gave for free, with the events in EventStoreDB (the protocol stand-in here, a live server when
 * EVENTSTORE_CONNECTION_STRING is set): the log lives in the server only, reads see writes at once, concurrent
 * duplicates are refused exactly once, checkpoints commit in PostgreSQL, and what only reads PostgreSQL's log
 * says so instead of working on nothing.
 */
describe('the service with its events in EventStoreDB', () => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService('eventstoredb')));
  afterAll(() => svc?.close());

  const count = async (sql: string, params: unknown[] = []) =>
    (await svc.db.client.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('keeps the events in EventStoreDB, the read models, keys and checkpoints in PostgreSQL', async () => {
    expect(svc.eventStore()).toBeInstanceOf(EsdbEventStore);
    const created = await svc.request('POST', '/documents', { json: doc('Where the log lives, one.') });
    expect(created.status).toBe(201);
    const id = created.body.documentId as string;
    const edited = await svc.request('PATCH', `/documents/${id}`, {
      json: { content: 'Where the log lives, two.' },
    });
    expect(edited.body.version).toBe(2);
    // Read at once, without minPosition: the write answered after the read models had applied it.
    const read = await svc.request('GET', `/documents/${id}`);
    expect({ version: read.body.version, content: read.body.content }).toEqual({
      version: 2,
      content: 'Where the log lives, two.',
    });
    expect(await count('SELECT count(*)::int AS n FROM events')).toBe(0);
    const events = await svc.eventStore().readStream(`document-${id}`);
    expect(events.map((e) => e.type)).toEqual(['DocumentUploaded', 'DocumentEdited']);
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain('Where the log lives');
    expect(await count('SELECT count(*)::int AS n FROM document_keys WHERE document_id = $1', [id])).toBe(1);
    const { rows } = await svc.db.client.query<{ name: string; position: string }>(
      `SELECT name, position_tx::text || '.' || position_seq::text AS position FROM projection_checkpoints
       WHERE name IN ('documents', 'document_versions') ORDER BY name`,
    );
    expect(rows.map((r) => r.name)).toEqual(['document_versions', 'documents']);
    for (const row of rows) expect(row.position).toBe(edited.body.position);
  });

  // One service on PGlite: its one session orders the uploads. The race across processes is the test below.
  it('refuses concurrent uploads of the same bytes for one coach exactly once', async () => {
    const same = doc('Eight at once, one document.', 'concurrent-coach');
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => svc.request('POST', '/documents', { json: same })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(replies.map((r) => r.body.documentId));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect((await svc.eventStore().readStream(`document-${id}`)).map((e) => e.type)).toEqual([
      'DocumentUploaded',
    ]);
    const list = await svc.request('GET', '/documents?coachId=concurrent-coach');
    expect(list.body.items.map((d: { documentId: string }) => d.documentId)).toEqual([id]);
  });

  it('gives a source up when its document is retired: the same bytes upload again as a new document', async () => {
    const first = await svc.request('POST', '/documents', { json: doc('Retired, then back.') });
    expect((await svc.request('DELETE', `/documents/${first.body.documentId}`)).status).toBe(200);
    const again = await svc.request('POST', '/documents', { json: doc('Retired, then back.') });
    expect(again.status).toBe(201);
    expect(again.body.documentId).not.toBe(first.body.documentId);
    const third = await svc.request('POST', '/documents', { json: doc('Retired, then back.') });
    expect({ status: third.status, id: third.body.documentId }).toEqual({
      status: 200,
      id: again.body.documentId,
    });
  });

  it('runs the documents read model as a projector: ready, no lag, rebuilt from $all to the same rows', async () => {
    await svc.request('POST', '/documents', { json: doc('Rebuilt from the log.') });
    const digest = async () =>
      (
        await svc.db.client.query(
          `SELECT document_id, version, status, title, position FROM documents ORDER BY document_id`,
        )
      ).rows;
    const status = async () =>
      (await svc.request('GET', '/admin/projections')).body.find(
        (p: { name: string }) => p.name === 'documents',
      );
    const before = await status();
    expect(before).toMatchObject({ kind: 'async', status: 'live', lag: 0 });
    const live = await digest();
    const r = await svc.request('POST', '/admin/projections/documents/rebuild');
    expect(r).toMatchObject({ status: 202, body: { name: 'documents', status: 'rebuild_requested' } });
    // Followed until done, with a deadline: this rebuild started, nothing is asked for, live again, at the head.
    // (A rebuild at the head is still `building` until it has swapped its tables in: lag 0 alone is not done.)
    const done = (s: typeof before) =>
      s.rebuilds > before.rebuilds && !s.rebuildRequested && s.lag === 0 && s.status === 'live';
    let after = await status();
    for (const until = Date.now() + 60_000; !done(after) && Date.now() < until; after = await status())
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(after).toMatchObject({ rebuilds: before.rebuilds + 1, status: 'live', lag: 0 });
    expect(await digest()).toEqual(live);
    const ready = await svc.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.eventStore.head).toBe(await svc.eventStore().head());
  });

  it('runs maintenance without the tasks that read the log from PostgreSQL, and says why', async () => {
    const run = await svc.request('POST', '/admin/maintenance');
    expect(run.status).toBe(200);
    const byName = Object.fromEntries(
      run.body.tasks.map((t: { name: string; status: string }) => [t.name, t.status]),
    );
    expect(byName).toMatchObject({ orphans: 'skipped', consistency: 'skipped', 'orphan-files': 'skipped' });
    expect(byName['query-cache']).toBe('succeeded');
  });

  it('refuses a backup of a log it does not hold, with a stable code', async () => {
    const config = loadConfig({
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
    });
    await expect(
      runBackup(config, join(tmpdir(), 'never.backup'), undefined, svc.db.client),
    ).rejects.toMatchObject({
      code: 'EVENT_STORE_UNSUPPORTED',
    });
  });
});

/**
 * Two services (each with its own pool and EventStoreDB client, as two processes would have) on one PostgreSQL
 * database and one EventStoreDB: their uploads of the same bytes really race, and nothing in either process orders
 * them. Only the source reservation in the log can refuse all but one. PostgreSQL only: PGlite has one session.
 */
if (targets().includes('postgres')) {
  describe('two services on one PostgreSQL and one EventStoreDB', () => {
    let db: TestDatabase;
    let eventStore: Awaited<ReturnType<typeof testEventStore>> | undefined;
    const services: TestService[] = [];
    beforeAll(async () => {
      eventStore = await testEventStore();
      db = await openTestDatabase('postgres', { migrate: false });
      for (let i = 0; i < 2; i++)
        services.push(
          await startService('eventstoredb', {}, { db, eventStoreConnection: eventStore.connection }),
        );
    });
    afterAll(async () => {
      for (const svc of services) await svc.close();
      eventStore?.stop();
      await db?.drop();
    });

    it('refuses concurrent uploads of the same bytes exactly once, whichever service each reaches', async () => {
      for (let round = 0; round < 3; round++) {
        const same = doc(`Two services, twelve uploads, one document (round ${round}).`, 'race-coach');
        const replies = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            services[i % 2]!.request('POST', '/documents', { json: same }),
          ),
        );
        expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
        expect(replies.filter((r) => r.status === 200)).toHaveLength(11);
        expect(new Set(replies.map((r) => r.body.documentId)).size).toBe(1);
      }
      const list = await services[0]!.request('GET', '/documents?coachId=race-coach');
      expect(list.body.items).toHaveLength(3);
    });
  });
}
