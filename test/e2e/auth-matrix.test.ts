import { openApiDocument } from '../../src/app/openapi.js';
import { CALLERS } from '../support/auth-matrix/callers.js';
import { violations } from '../support/auth-matrix/checks.js';
import { requestFor, variantsOf } from '../support/auth-matrix/requests.js';
import { apiRoutes, missingMethods } from '../support/auth-matrix/routes.js';
import { seed, type Fixture } from '../support/auth-matrix/seed.js';
import { MATRIX_ENV, send } from '../support/auth-matrix/send.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

/**
 * The authorisation matrix (issue 17): every route of the OpenAPI document × every caller (no key, a wrong key,
 * free and premium readers, an editor and a reader of another coach, the editor, the admin) × every seeded
 * document (free, premium, another coach's, one that does not exist) or named coach, checked against the access
 * policy (test/support/auth-matrix/). The long run with many variants per route is reliability/auth-matrix.ts.
 */
const ROUTES = apiRoutes(openApiDocument());

describe.each(targets())('authorisation matrix on %s', (kind) => {
  let svc: TestService;
  let fixture: Fixture;
  beforeAll(async () => {
    svc = await startService(kind, MATRIX_ENV);
    fixture = await seed(svc);
  }, 120_000);
  afterAll(() => svc?.close());

  it('covers every route the service describes, and the known ones', async () => {
    const served = await svc.request('GET', '/openapi.json', { as: 'none' });
    expect(served.status).toBe(200);
    const routes = apiRoutes(served.body);
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    expect(routes.length).toBeGreaterThan(20);
    const needs = Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.need]));
    expect(needs).toMatchObject({
      'POST /search': 'reader',
      'GET /documents/{id}': 'reader',
      'POST /documents': 'editor',
      'PATCH /documents/{id}': 'editor',
      'POST /documents/{id}/erase': 'admin',
      'POST /coaches/{coachId}/restore': 'admin',
      'GET /admin/projections': 'admin',
      'GET /metrics': 'admin',
      'GET /health': 'public',
    });
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s answers every caller by the policy',
    async (_name, route) => {
      const problems: string[] = [];
      let requests = 0;
      for (const variant of variantsOf(route)) {
        // Every caller at once (one variant at a time: the same request, eight keys).
        await Promise.all(
          CALLERS.map(async (who) => {
            const request = requestFor(route, variant, fixture);
            const outcome = await send(svc.base, who, request, 150);
            requests++;
            problems.push(...violations(route, who, request, outcome, fixture));
          }),
        );
      }
      expect(requests).toBeGreaterThanOrEqual(CALLERS.length);
      expect(problems).toEqual([]);
    },
  );

  it('answers a method a path does not have with 405 or 401, never 2xx or 5xx', async () => {
    const problems: string[] = [];
    const missing = missingMethods(ROUTES, fixture.docs.carnivoreFree.id);
    expect(missing.length).toBeGreaterThan(0);
    await Promise.all(
      missing.flatMap(({ method, path }) =>
        (['none', 'admin'] as const).map(async (who) => {
          const o = await send(svc.base, who, { method, path, odd: true });
          if (o.status !== 405 && o.status !== 401) problems.push(`${who} ${method} ${path}: ${o.status}`);
        }),
      ),
    );
    expect(problems).toEqual([]);
  });
});
