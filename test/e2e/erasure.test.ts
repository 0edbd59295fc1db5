import { unseal } from '../../src/infrastructure/documents/document-keys.js';
import { openDocumentEvents } from '../../src/projections/documents/open-document-events.js';
import { serviceTargets, startService, type TestService } from '../support/service.js';

const doc = (accessTier: string, content: string) => ({
  coachId: 'carnivore',
  title: `Erasable ${accessTier}`,
  content,
  metadata: { documentType: 'guide', tags: ['t'], accessTier },
});

/** Crypto-shredding seen from outside the code that does it: the key table and the event log themselves. */
describe.each(serviceTargets())('erasure on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind)));
  afterAll(() => svc?.close());

  const upload = async (tier: string, content: string) => {
    const r = await svc.request('POST', '/documents', { json: doc(tier, content) });
    expect(r.status).toBe(201);
    return r.body.documentId as string;
  };
  const erase = (id: string) => svc.request('POST', `/documents/${id}/erase`, { json: { reason: 'asked' } });
  const keyRows = async (id: string) =>
    (
      await svc.db.client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM document_keys WHERE document_id = $1',
        [id],
      )
    ).rows[0]!.n;
  const allKeys = async () =>
    (
      await svc.db.client.query<{ key: string }>(`SELECT encode(key, 'base64') AS key FROM document_keys`)
    ).rows.map((r) => Buffer.from(r.key, 'base64'));

  it("destroys the document's key: no key left opens any of its sealed events", async () => {
    const id = await upload('free', 'Shredded words one.');
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: 'Shredded words two.', changeSummary: 'a summary' },
    });
    const keep = await upload('free', 'A neighbour that keeps its key.');
    expect(await keyRows(id)).toBe(1);
    expect((await erase(id)).status).toBe(200);

    expect(await keyRows(id)).toBe(0);
    expect(await keyRows(keep)).toBe(1);
    const store = svc.eventStore();
    const events = await store.readStream(`document-${id}`);
    const sealed = events
      .map((e) => (e.data as { sealed?: string }).sealed)
      .filter((s): s is string => s !== undefined);
    // The ciphertext stays in the append-only log (two versions were sealed) ...
    expect(sealed).toHaveLength(2);
    // ... and no key the database still holds opens any of it.
    const keys = await allKeys();
    expect(keys.length).toBeGreaterThan(0);
    for (const text of sealed) for (const key of keys) expect(() => unseal(key, text)).toThrow();
    // Read as every reader of the log reads it, the versions have no text left.
    const opened = await openDocumentEvents(svc.db.client, events);
    const contents = opened.map(
      ({ event }) => (event.data as { snapshot?: { content: string } }).snapshot?.content,
    );
    expect(contents).toEqual(['', '', undefined]);
    // The neighbour still opens: the test's way of reading would see text if it were there.
    const [neighbour] = await openDocumentEvents(svc.db.client, await store.readStream(`document-${keep}`));
    expect((neighbour!.event.data as { snapshot: { content: string } }).snapshot.content).toBe(
      'A neighbour that keeps its key.',
    );
  });

  it('answers 410 DOCUMENT_ERASED to whoever could read the document, 404 to whoever could not', async () => {
    const free = await upload('free', 'A free text to erase.');
    const premium = await upload('premium', 'A premium text to erase.');
    await erase(free);
    await erase(premium);
    const get = (id: string, as: 'freeReader' | 'premiumReader' | 'otherEditor') =>
      svc.request('GET', `/documents/${id}`, { as });
    expect(await get(free, 'freeReader')).toMatchObject({ status: 410, body: { code: 'DOCUMENT_ERASED' } });
    expect(await get(free, 'premiumReader')).toMatchObject({ status: 410 });
    expect(await get(premium, 'premiumReader')).toMatchObject({ status: 410 });
    expect(await get(premium, 'freeReader')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await get(free, 'otherEditor')).toMatchObject({ status: 404 });
  });
});
