import { targets } from '../support/databases.js';
import { KEYS, startService, type TestService, type Who } from '../support/service.js';

const WHO: Who[] = [
  'admin',
  'editor',
  'otherEditor',
  'freeReader',
  'premiumReader',
  'otherReader',
  'none',
  'wrong',
];
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

type Ids = { free: string; premium: string; freeTwo: string; premiumTwo: string; asOf: string };
type Route = {
  name: string;
  run: (svc: TestService, who: Who, ids: Ids) => Promise<number>;
  expect: Record<Who, number>;
};

/** Statuses in WHO's order; a missing or a wrong key is always 401. */
const statuses = (
  admin: number,
  editor: number,
  otherEditor: number,
  freeReader: number,
  premiumReader: number,
  otherReader: number,
): Record<Who, number> => ({
  admin,
  editor,
  otherEditor,
  freeReader,
  premiumReader,
  otherReader,
  none: 401,
  wrong: 401,
});
/** A read of one document: hidden (404) from another coach's keys, and a premium one from the free reader. */
const documentRead = (tier: 'free' | 'premium') =>
  statuses(200, 200, 404, tier === 'free' ? 200 : 404, 200, 404);
/** A read of a coach's feed (search, changelog): another coach's keys are refused (403). */
const coachRead = statuses(200, 200, 403, 200, 200, 403);

const get = async (s: TestService, as: Who, path: string) => (await s.request('GET', path, { as })).status;
/** The stream's status arrives with its headers; the stream itself is not read. */
const streamStatus = async (s: TestService, as: Who, path: string) => {
  const controller = new AbortController();
  const headers: Record<string, string> = as === 'none' ? {} : { authorization: `Bearer ${KEYS[as]}` };
  const res = await fetch(s.base + path, { headers, signal: controller.signal });
  controller.abort();
  return res.status;
};

/** POST /search and every history route, for free and premium documents. */
const HISTORY_ROUTES: Route[] = [
  {
    name: 'POST /search',
    run: async (s, as) =>
      (await s.request('POST', '/search', { as, json: { coachId: 'carnivore', query: 'text' } })).status,
    expect: coachRead,
  },
  ...(['free', 'premium'] as const).flatMap((tier): Route[] => {
    const id = (ids: Ids) => (tier === 'free' ? ids.freeTwo : ids.premiumTwo);
    return [
      {
        name: `GET /documents/:id/versions ${tier}`,
        run: (s, as, ids) => get(s, as, `/documents/${id(ids)}/versions`),
        expect: documentRead(tier),
      },
      {
        name: `GET /documents/:id/diff ${tier}`,
        run: (s, as, ids) => get(s, as, `/documents/${id(ids)}/diff?from=1&to=2`),
        expect: documentRead(tier),
      },
      {
        name: `GET /documents/:id?version=1 ${tier} (of two)`,
        run: (s, as, ids) => get(s, as, `/documents/${id(ids)}?version=1`),
        expect: documentRead(tier),
      },
      {
        name: `GET /documents/:id?asOf= ${tier}`,
        run: (s, as, ids) => get(s, as, `/documents/${id(ids)}?asOf=${ids.asOf}`),
        expect: documentRead(tier),
      },
    ];
  }),
  {
    name: 'GET /changelog of a coach',
    run: (s, as) => get(s, as, '/changelog?coachId=carnivore'),
    expect: coachRead,
  },
  {
    name: 'GET /changelog of every coach of the key',
    run: (s, as) => get(s, as, '/changelog'),
    expect: statuses(200, 200, 200, 200, 200, 200),
  },
  {
    name: 'GET /changelog/stream of a coach',
    run: (s, as) => streamStatus(s, as, '/changelog/stream?coachId=carnivore'),
    expect: coachRead,
  },
  {
    name: 'POST /coaches/:coachId/restore (dry run)',
    run: async (s, as, ids) =>
      (await s.request('POST', '/coaches/carnivore/restore', { as, json: { asOf: ids.asOf, dryRun: true } }))
        .status,
    expect: statuses(200, 403, 403, 403, 403, 403),
  },
];

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
      otherReader: 200,
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
      otherReader: 403,
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
      otherReader: 403,
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
      otherReader: 404,
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
      otherReader: 404,
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
      otherReader: 404,
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
      otherReader: 404,
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
      otherReader: 403,
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
      otherReader: 403,
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
      otherReader: 403,
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
      otherReader: 403,
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
      otherReader: 403,
      none: 401,
      wrong: 401,
    },
  },
];

describe.each(targets())('the auth matrix on %s', (kind) => {
  let svc: TestService;
  const ids: Ids = { free: '', premium: '', freeTwo: '', premiumTwo: '', asOf: '' };
  beforeAll(async () => {
    svc = await startService(kind);
    ids.free = (await svc.request('POST', '/documents', { json: doc('free', 'free text') })).body.documentId;
    const form = fileForm('premium text in a file');
    form.set('coachId', 'carnivore');
    form.set('metadata', JSON.stringify({ documentType: 'guide', tags: [], accessTier: 'premium' }));
    ids.premium = (await svc.request('POST', '/documents', { form })).body.documentId;
    // Two versions each (for diffs), of the same tier throughout.
    for (const tier of ['free', 'premium'] as const) {
      const id = await fresh(svc, tier);
      await svc.request('PATCH', `/documents/${id}`, { json: { content: unique() } });
      ids[tier === 'free' ? 'freeTwo' : 'premiumTwo'] = id;
    }
    ids.asOf = new Date().toISOString();
  });
  afterAll(() => svc?.close());

  it.each([...ROUTES, ...HISTORY_ROUTES].map((r) => [r.name, r] as const))('%s', async (_name, route) => {
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
