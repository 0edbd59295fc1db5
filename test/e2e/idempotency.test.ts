import { serviceTargets, startService, type TestService } from '../support/service.js';

const doc = (content: string) => ({
  coachId: 'carnivore',
  title: 'Retried',
  content,
  metadata: { documentType: 'guide', tags: ['t'], accessTier: 'free' },
});

/**
 * A retry with the same Idempotency-Key gets the first answer (status and body) and writes nothing, even when the
 * state its first attempt produced would refuse it (If-Match, a duplicate of itself); the same key with another
 * request is 422 IDEMPOTENCY_KEY_REUSED. A client whose write committed just before a crash confirms it so.
 */
describe.each(serviceTargets())('Idempotency-Key on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind)));
  afterAll(() => svc?.close());

  const keyed = (key: string) => ({ 'idempotency-key': key });

  it('answers a repeated upload with its first answer, and writes it once', async () => {
    const first = await svc.request('POST', '/documents', {
      json: doc('Once only.'),
      headers: keyed('up-1'),
    });
    expect(first.status).toBe(201);
    const events = await svc.countEvents();
    const again = await svc.request('POST', '/documents', {
      json: doc('Once only.'),
      headers: keyed('up-1'),
    });
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    expect(await svc.countEvents()).toBe(events);
    const listed = await svc.request('GET', '/documents?coachId=carnivore');
    const retried = listed.body.items.filter((d: { title: string }) => d.title === 'Retried');
    expect(retried).toHaveLength(1);
  });

  it('refuses the same key with another request with 422, writing nothing', async () => {
    await svc.request('POST', '/documents', { json: doc('The first request.'), headers: keyed('up-2') });
    const events = await svc.countEvents();
    const other = await svc.request('POST', '/documents', {
      json: doc('Another request.'),
      headers: keyed('up-2'),
    });
    expect({ status: other.status, code: other.body.code }).toEqual({
      status: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await svc.countEvents()).toBe(events);
  });

  it('answers a repeated edit with If-Match with its first answer, not 412', async () => {
    const { body } = await svc.request('POST', '/documents', { json: doc('Edit me.') });
    const path = `/documents/${body.documentId}`;
    const edit = { json: { content: 'Edited once.' }, headers: { ...keyed('edit-1'), 'if-match': '"1"' } };
    const first = await svc.request('PATCH', path, edit);
    expect(first.status).toBe(200);
    const events = await svc.countEvents();
    const again = await svc.request('PATCH', path, edit);
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    expect(await svc.countEvents()).toBe(events);
    const other = await svc.request('PATCH', path, { ...edit, json: { content: 'Edited otherwise.' } });
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Without the key, the stale If-Match is the conflict it always was.
    const stale = await svc.request('PATCH', path, {
      json: { content: 'x' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
  });

  it("scopes keys to the API key: another client's same key is its own", async () => {
    const mine = await svc.request('POST', '/documents', {
      json: doc('Mine.'),
      headers: keyed('shared-key'),
    });
    const theirs = await svc.request('POST', '/documents', {
      json: { ...doc('Theirs.'), coachId: 'vegan' },
      headers: keyed('shared-key'),
      as: 'otherEditor',
    });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.body.documentId).not.toBe(mine.body.documentId);
  });
});
