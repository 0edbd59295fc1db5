/**
 * The authorisation matrix (issue 17), shared by `test/e2e/auth-matrix.test.ts` (one variant per route and caller)
 * and `reliability/auth-matrix.ts` (many): every route of the OpenAPI document, for every caller, checked against
 * the access policy of API.md, README.md ("Routes") and docs/security.md:
 *
 * - no key or an unknown key: `401` (public routes: anything but 401/403);
 * - a role below what the route needs: `403`;
 * - a document outside the key's coaches or tier: `404` for a read by id, `403` or `404` for a write by id;
 * - a coach named in the request outside the key's coaches: `403`;
 * - allowed: never 401, 403 (nor 404 for a document the key may see);
 * - never a 2xx where the caller may not act, never a 5xx, and no body holds a marker word of a document the
 *   caller may not see (a premium document, another coach's).
 *
 * The routes and what each needs: test/support/auth-matrix/routes.ts; the callers: callers.ts; the seeded
 * documents: seed.ts; the requests: requests.ts; sending them: send.ts.
 */
import type { Who } from '../service.js';
import { CALLER, canSee, canSeeCoach, RANK } from './callers.js';
import type { MatrixRequest } from './requests.js';
import type { ApiRoute } from './routes.js';
import { forbiddenMarkers, type Fixture } from './seed.js';
import type { Outcome } from './send.js';

const LEAK_TEXT =
  /\bat \/|\bat [\w.<>]+ \(|node_modules|SELECT |INSERT |syntax error|invalid input syntax|unsupported Unicode|byte sequence/i;

/**
 * What is wrong with an answer, by the policy (empty: nothing). `forbidden` are the markers the caller must not
 * see.
 */
export function violations(route: ApiRoute, who: Who, r: MatrixRequest, o: Outcome, f: Fixture): string[] {
  const out: string[] = [];
  const what = `${who} ${r.method} ${r.path}${r.target ? ` [${r.target}]` : ''}`;
  const bad = (why: string) => out.push(`${what}: ${why} (got ${o.status}: ${o.text.slice(0, 160)})`);
  const ok = o.status >= 200 && o.status < 300;
  if (o.status >= 500) bad('a 5xx');
  // The slow-statement report shows SQL by design (to the admin only).
  if (LEAK_TEXT.test(o.text) && route.path !== '/admin/performance') bad('SQL or stack text in the answer');
  for (const marker of forbiddenMarkers(who, f)) if (o.text.includes(marker)) bad(`leaks marker ${marker}`);
  const caller = CALLER[who];
  if (route.need === 'public') {
    if (o.status === 401 || o.status === 403) bad('a public route refused');
    return out;
  }
  if (!caller.role) {
    if (o.status !== 401) bad('expected 401');
    return out;
  }
  if (RANK[caller.role] < RANK[route.need]) {
    if (o.status !== 403) bad(`expected 403 (needs ${route.need})`);
    return out;
  }
  // A query or body value the route cannot take is refused as such (400) before anything is looked up: the same
  // answer for every id and coach, so it tells nothing.
  if (r.odd && o.status === 400) return out;
  if (r.target === 'random' || r.target === 'malformed') {
    if (o.status !== 404) bad('expected 404 for a document that does not exist');
    return out;
  }
  if (r.doc && !canSee(who, r.doc)) {
    const refused = r.method === 'GET' ? [404] : [403, 404];
    if (!refused.includes(o.status)) bad(`expected ${refused.join(' or ')} for a document out of scope`);
    return out;
  }
  if (r.coach && !canSeeCoach(who, r.coach)) {
    if (route.path === '/imports/csv') {
      // The rows are refused one by one: 200 with nothing imported, or 403.
      if (o.status === 200 && !/"imported":0\b/.test(o.text)) bad('imported rows for a coach out of scope');
      else if (o.status !== 200 && o.status !== 403) bad('expected 403 or 200 with nothing imported');
    } else if (o.status !== 403) bad('expected 403 for a coach out of scope');
    return out;
  }
  if (o.status === 401 || o.status === 403) bad('an allowed caller refused');
  if (r.doc && !r.odd) {
    if (o.status === 404) bad('an allowed caller got 404 for a document it may see');
    if (
      r.method === 'GET' &&
      ok &&
      !/\/diff$/.test(route.path.split('?')[0]!) &&
      !o.text.includes(r.doc.marker)
    )
      bad(`the answer lacks the document's own marker ${r.doc.marker}`);
  }
  return out;
}
