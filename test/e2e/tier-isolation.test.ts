import { SEARCH_MODES } from '../../src/projections/chunks/search.schema.js';
import { targets } from '../support/databases.js';
import { KEYS, startService, type TestService, type Who } from '../support/service.js';

const doc = (title: string, accessTier: string, content: string) => ({
  coachId: 'carnivore',
  title,
  content,
  format: 'markdown',
  metadata: { documentType: 'protocol', tags: ['fasting'], accessTier, publicationDate: '2021-06-01' },
});

/**
 * A free reader never gets premium text, whichever way it asks: every search mode, with filters, as of a moment,
 * right after a reader who may see premium text asked the very same question (the query cache is on, with its
 * default lifetime, as in production); and never a premium document in the changelog or its live stream.
 */
describe.each(targets())('free-tier isolation on %s', (kind) => {
  let svc: TestService;
  const ids = { free: '', premium: '' };
  let position = '';
  let afterUploads = '';

  beforeAll(async () => {
    // No QUERY_CACHE_TTL_SECONDS: the default applies, so the query cache is on.
    svc = await startService(kind);
    const up = async (title: string, tier: string) => {
      const r = await svc.request('POST', '/documents', {
        json: doc(title, tier, `# ${title}\n\nAutophagy rises during a prolonged fast of ${tier} length.`),
      });
      expect(r.status).toBe(201);
      position = r.body.position;
      return r.body.documentId as string;
    };
    ids.premium = await up('Fasting protocol', 'premium');
    ids.free = await up('Fasting basics', 'free');
    afterUploads = new Date().toISOString();
  });
  afterAll(() => svc?.close());

  const variants: Array<[string, Record<string, unknown>]> = [
    ['plain', {}],
    [
      'with filters',
      { filters: { documentTypes: ['protocol'], tags: ['fasting'], publishedAfter: '2020-01-01' } },
    ],
    ['as of a moment', { asOf: '' }],
  ];
  const cases = SEARCH_MODES.flatMap((mode) =>
    variants.flatMap(([variant, extra]) =>
      (['premiumReader', 'editor', 'admin'] as const).map((first) => [mode, variant, first, extra] as const),
    ),
  );

  it.each(cases)('%s search %s, right after %s asked the same', async (mode, _variant, first, extra) => {
    const body = {
      coachId: 'carnivore',
      query: 'autophagy prolonged fast',
      k: 10,
      mode,
      minPosition: position,
      ...extra,
      ...('asOf' in extra ? { asOf: afterUploads } : {}),
    };
    const ask = async (as: Who) => {
      const r = await svc.request('POST', '/search', { json: body, as });
      expect(r.status).toBe(200);
      return new Set((r.body.results as Array<{ documentId: string }>).map((x) => x.documentId));
    };
    const privileged = await ask(first);
    expect(privileged.has(ids.premium)).toBe(true); // the question does find the premium text
    for (let i = 0; i < 2; i++) {
      const free = await ask('freeReader');
      expect(free.has(ids.premium)).toBe(false);
      expect(free.has(ids.free)).toBe(true);
    }
  });

  it('never shows a premium document or version in the changelog or its live stream', async () => {
    const write = (method: string, path: string, json: unknown) => svc.request(method, path, { json });
    const upload = async (title: string, tier: string) =>
      (await write('POST', '/documents', doc(title, tier, `${title} text.`))).body.documentId as string;
    const premium = await upload('Premium only', 'premium');
    const turnsPremium = await upload('Free, then premium', 'free');
    await write('PATCH', `/documents/${turnsPremium}`, { metadata: { accessTier: 'premium' } });
    const erased = await upload('Premium, erased', 'premium');
    await write('POST', `/documents/${erased}/erase`, { reason: 'asked' });
    // Premium once, free later, then erased: the erasure wiped every version's tier with its content, and an
    // unknown tier counts as premium, so only the (free) erasure itself shows.
    const wasPremium = await upload('Premium, then free, erased', 'premium');
    await write('PATCH', `/documents/${wasPremium}`, { metadata: { accessTier: 'free' } });
    await write('POST', `/documents/${wasPremium}/erase`, { reason: 'asked' });
    const free = await upload('Free throughout', 'free');
    await write('PATCH', `/documents/${free}`, { content: 'Free, edited.' });
    const hidden = new Set([premium, turnsPremium, erased]);
    const mine = (e: { documentId: string }) =>
      hidden.has(e.documentId) || e.documentId === free || e.documentId === wasPremium;

    // The changelog shows a change once every older transaction has ended; a projector batch open meanwhile
    // holds it back for a moment. So: until the last write shows (bounded), then the whole log.
    const log = (as: Who) => svc.request('GET', '/changelog?coachId=carnivore&limit=1000', { as });
    const hasLast = (r: { body: { entries: Array<{ documentId: string; version: number }> } }) =>
      r.body.entries.some((e) => e.documentId === free && e.version === 2);
    for (let i = 0; i < 200 && !hasLast(await log('admin')); i++) await new Promise((r) => setTimeout(r, 50));
    const all = await log('admin');
    expect(new Set(all.body.entries.filter(mine).map((e: { documentId: string }) => e.documentId))).toEqual(
      new Set([...hidden, free, wasPremium]),
    );
    const versions = await svc.request('GET', `/documents/${wasPremium}/versions`, { as: 'freeReader' });
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([3]);
    const page = await log('freeReader');
    expect(page.status).toBe(200);
    expect(
      page.body.entries
        .filter(mine)
        .map((e: { documentId: string; version: number }) => [e.documentId, e.version]),
    ).toEqual([
      [wasPremium, 3],
      [free, 1],
      [free, 2],
    ]);

    // The stream: read until the free document's last entry (written after every premium one) arrives.
    const controller = new AbortController();
    const res = await fetch(`${svc.base}/changelog/stream?coachId=carnivore`, {
      headers: { authorization: `Bearer ${KEYS.freeReader}` },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    const entries = () =>
      [...text.matchAll(/^data: (.*)$/gm)].map(
        (m) => JSON.parse(m[1]!) as { documentId: string; version: number },
      );
    while (!entries().some((e) => e.documentId === free && e.version === 2)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(
      entries()
        .filter(mine)
        .map((e) => [e.documentId, e.version]),
    ).toEqual([
      [wasPremium, 3],
      [free, 1],
      [free, 2],
    ]);
  });
});
