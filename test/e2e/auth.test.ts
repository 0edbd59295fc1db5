import { targets } from '../support/databases.js';
import { startService, type TestService, type Who } from '../support/service.js';

const WHO: Who[] = ['admin', 'editor', 'otherEditor', 'freeReader', 'premiumReader', 'none', 'wrong'];
const doc = (accessTier: string, content: string) => ({
  coachId: 'carnivore',
  title: `A ${accessTier} document`,
  content,
  metadata: { documentType: 'guide', tags: [], accessTier },
});
const fileForm = (text: string) => {
  const form = new FormData();
  form.set('file', new Blob([text]), 'x.txt');
  return form;
};

type Route = {
  name: string;
  run: (svc: TestService, who: Who, ids: { free: string; premium: string }) => Promise<number>;
  expect: Record<Who, number>;
};

let n = 0;
const unique = () => `text ${++n} ${Math.random()}`;
/** Writes act on a document made for each call, so that one principal's write cannot change another's outcome. */
const fresh = async (svc: TestService, tier = 'free') =>
  (await svc.request('POST', '/documents', { json: doc(tier, unique()) })).body.documentId as string;

const ROUTES: Route[] = [
  {
    name: 'GET /health',
    run: async (s, as) => (await s.request('GET', '/health', { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 200,
      freeReader: 200,
      premiumReader: 200,
      none: 200,
      wrong: 200,
    },
  },
  {
    name: 'POST /documents',
    run: async (s, as) => (await s.request('POST', '/documents', { as, json: doc('free', unique()) })).status,
    expect: {
      admin: 201,
      editor: 201,
      otherEditor: 403,
      freeReader: 403,
      premiumReader: 403,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'GET /documents (list)',
    run: async (s, as) => (await s.request('GET', '/documents?coachId=carnivore', { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 403,
      freeReader: 200,
      premiumReader: 200,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'GET /documents/:id free',
    run: async (s, as, ids) => (await s.request('GET', `/documents/${ids.free}`, { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 200,
      premiumReader: 200,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'GET /documents/:id premium',
    run: async (s, as, ids) => (await s.request('GET', `/documents/${ids.premium}`, { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 404,
      premiumReader: 200,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'GET /documents/:id?version=1 premium',
    run: async (s, as, ids) => (await s.request('GET', `/documents/${ids.premium}?version=1`, { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 404,
      premiumReader: 200,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'GET /documents/:id/file premium',
    run: async (s, as, ids) => (await s.request('GET', `/documents/${ids.premium}/file`, { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 404,
      premiumReader: 200,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'PATCH /documents/:id',
    run: async (s, as) =>
      (await s.request('PATCH', `/documents/${await fresh(s)}`, { as, json: { content: unique() } })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 403,
      premiumReader: 403,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'PUT /documents/:id/file',
    run: async (s, as) =>
      (await s.request('PUT', `/documents/${await fresh(s)}/file`, { as, form: fileForm(unique()) })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 403,
      premiumReader: 403,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'POST /documents/:id/rollback',
    run: async (s, as) => {
      const id = await fresh(s);
      await s.request('PATCH', `/documents/${id}`, { json: { content: unique() } });
      return (await s.request('POST', `/documents/${id}/rollback`, { as, json: { toVersion: 1 } })).status;
    },
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 403,
      premiumReader: 403,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'DELETE /documents/:id',
    run: async (s, as) => (await s.request('DELETE', `/documents/${await fresh(s)}`, { as })).status,
    expect: {
      admin: 200,
      editor: 200,
      otherEditor: 404,
      freeReader: 403,
      premiumReader: 403,
      none: 401,
      wrong: 401,
    },
  },
  {
    name: 'POST /documents/:id/erase',
    run: async (s, as) =>
      (await s.request('POST', `/documents/${await fresh(s)}/erase`, { as, json: { reason: 'test' } }))
        .status,
    expect: {
      admin: 200,
      editor: 403,
      otherEditor: 403,
      freeReader: 403,
      premiumReader: 403,
      none: 401,
      wrong: 401,
    },
  },
];

describe.each(targets())('the auth matrix on %s', (kind) => {
  let svc: TestService;
  const ids = { free: '', premium: '' };
  beforeAll(async () => {
    svc = await startService(kind);
    ids.free = (await svc.request('POST', '/documents', { json: doc('free', 'free text') })).body.documentId;
    const form = fileForm('premium text in a file');
    form.set('coachId', 'carnivore');
    form.set('metadata', JSON.stringify({ documentType: 'guide', tags: [], accessTier: 'premium' }));
    ids.premium = (await svc.request('POST', '/documents', { form })).body.documentId;
  });
  afterAll(() => svc?.close());

  it.each(ROUTES.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    const got: Partial<Record<Who, number>> = {};
    for (const who of WHO) got[who] = await route.run(svc, who, ids);
    expect(got).toEqual(route.expect);
  });

  it('never lists a premium document to a free reader, and answers 401/403 as problem+json', async () => {
    const free = await svc.request('GET', '/documents?coachId=carnivore&limit=100', { as: 'freeReader' });
    const premium = await svc.request('GET', '/documents?coachId=carnivore&limit=100', {
      as: 'premiumReader',
    });
    expect(
      free.body.items.every((d: { metadata: { accessTier: string } }) => d.metadata.accessTier === 'free'),
    ).toBe(true);
    expect(
      premium.body.items.some(
        (d: { metadata: { accessTier: string } }) => d.metadata.accessTier === 'premium',
      ),
    ).toBe(true);
    const none = await svc.request('GET', '/documents?coachId=carnivore', { as: 'none' });
    expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(none.body).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(
      (await svc.request('POST', '/documents', { as: 'freeReader', json: doc('free', 'x') })).body,
    ).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });
});
