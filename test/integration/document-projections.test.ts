import { documentVersionsProjection } from '../../src/projections/document-versions/document-versions.projection.js';
import { documentsProjection } from '../../src/projections/documents/documents.projection.js';
import type { RecordedEvent } from '../../src/infrastructure/event-store/event-store.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

async function digest(svc: TestService): Promise<string> {
  const { rows } = await svc.db.client.query<{ d: string }>(
    `SELECT md5(coalesce((SELECT string_agg(t::text, '|' ORDER BY document_id) FROM documents t), '') ||
                coalesce((SELECT string_agg(v::text, '|' ORDER BY document_id, version) FROM document_versions v), '')) AS d`,
  );
  return rows[0]!.d;
}

describe.each(targets())('document read models on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind)));
  afterAll(() => svc?.close());

  it('replayed from the events, each event delivered twice, equal the live ones row for row', async () => {
    const meta = { documentType: 'guide', tags: ['a'], accessTier: 'free' };
    const ids: string[] = [];
    for (const content of ['one', 'two', 'three']) {
      ids.push(
        (
          await svc.request('POST', '/documents', {
            json: { coachId: 'c', title: content, content, metadata: meta },
          })
        ).body.documentId,
      );
    }
    await svc.request('PATCH', `/documents/${ids[0]}`, {
      json: { content: 'one, edited', metadata: { tags: ['b'] } },
    });
    await svc.request('POST', `/documents/${ids[0]}/rollback`, { json: { toVersion: 1 } });
    await svc.request('DELETE', `/documents/${ids[1]}`);
    await svc.request('POST', `/documents/${ids[2]}/erase`, { json: { reason: 'asked to' } });
    const live = await digest(svc);
    const dump = async () => [
      ...(await svc.db.client.query('SELECT * FROM documents ORDER BY document_id')).rows,
      ...(await svc.db.client.query('SELECT * FROM document_versions ORDER BY document_id, version')).rows,
    ];
    const before = await dump();

    const store = new PostgresEventStore(svc.db.client, serviceEventRegistry());
    const events: RecordedEvent[] = [];
    for (
      let after: string | undefined, page;
      (page = await store.readAll({ after, limit: 100 })).events.length > 0;
      after = page.last
    ) {
      events.push(...page.events);
    }
    await svc.db.client.transaction(async (tx) => {
      for (const projection of [documentVersionsProjection, documentsProjection]) {
        await projection.truncate(tx);
        for (const event of events) {
          await projection.apply(tx, [event]);
          await projection.apply(tx, [event]);
        }
      }
    });
    expect(await dump()).toEqual(before);
    expect(await digest(svc)).toBe(live);
  });
});

describe('the rate limit', () => {
  it('answers 429 problem+json past RATE_LIMIT_PER_MINUTE, and never limits health checks', async () => {
    const svc = await startService('pglite', { RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await svc.request('GET', '/documents?coachId=c')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await svc.request('GET', '/documents?coachId=c');
      expect(limited.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect((await svc.request('GET', '/health')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });

  it('limits failed authentication per client address, a new random key on every request included', async () => {
    const svc = await startService('pglite', { AUTH_FAILURES_PER_MINUTE: '5' });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++) {
        const key = `random-${i}-${'x'.repeat(24)}`;
        statuses.push(
          (
            await svc.request('GET', '/documents?coachId=c', {
              headers: { authorization: `Bearer ${key}` },
              as: 'none',
            })
          ).status,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      // The whole address waits out the window, a valid key included: a right guess must not stand out.
      const valid = await svc.request('GET', '/documents?coachId=c');
      expect(valid.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(valid.body.detail).toMatch(/failed authentications from this address/);
      expect((await svc.request('GET', '/health')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });

  it('counts only failures: successful requests from an address never use up its failed-auth allowance', async () => {
    const svc = await startService('pglite', { AUTH_FAILURES_PER_MINUTE: '2' });
    try {
      for (let i = 0; i < 5; i++) expect((await svc.request('GET', '/documents?coachId=c')).status).toBe(200);
      expect((await svc.request('GET', '/documents?coachId=c', { as: 'wrong' })).status).toBe(401);
      expect((await svc.request('GET', '/documents?coachId=c')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});
