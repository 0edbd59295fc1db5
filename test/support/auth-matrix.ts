import { randomBytes, randomUUID } from 'node:crypto';
import { KEYS, type TestService, type Who } from './service.js';

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
 * The routes come from the OpenAPI document the service serves, so a new route is in the matrix at once; what it
 * needs is derived from its method and path (below) unless it is listed.
 */

export const CALLERS: Who[] = [
  'none',
  'wrong',
  'freeReader',
  'premiumReader',
  'otherReader',
  'editor',
  'otherEditor',
  'admin',
];

type Role = 'reader' | 'editor' | 'admin';
type Need = 'public' | Role;
const RANK: Record<Role, number> = { reader: 0, editor: 1, admin: 2 };

interface Caller {
  role?: Role;
  coaches: '*' | string[];
  tier?: 'free' | 'premium';
}
/** The keys of test/support/service.ts, as its API_KEYS configure them. */
export const CALLER: Record<Who, Caller> = {
  none: { coaches: [] },
  wrong: { coaches: [] },
  freeReader: { role: 'reader', coaches: ['carnivore'], tier: 'free' },
  premiumReader: { role: 'reader', coaches: ['carnivore'], tier: 'premium' },
  otherReader: { role: 'reader', coaches: ['vegan'], tier: 'premium' },
  editor: { role: 'editor', coaches: ['carnivore'] },
  otherEditor: { role: 'editor', coaches: ['vegan'] },
  admin: { role: 'admin', coaches: '*' },
};

export interface ApiRoute {
  method: string;
  /** As in the OpenAPI document: `/documents/{id}`. */
  path: string;
  summary: string;
  need: Need;
}

/** The part of an OpenAPI document read here (the generated one, or /openapi.json parsed). */
interface OpenApiLike {
  paths?: object;
}
type Operation = { summary?: string; security?: unknown[] } | undefined;

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Reads sent as POST (a body of search parameters). */
const READS_BY_POST = new Set(['POST /search']);

/**
 * What a route needs, from the document: public when its operation clears `security`; admin for `/admin/*`,
 * `/metrics`, erase and restore, and whatever its summary marks "(admin)"; otherwise GET (and the reads sent as
 * POST) any key, and every other method an editor.
 */
export function needOf(method: string, path: string, op: { summary?: string; security?: unknown[] }): Need {
  const m = method.toUpperCase();
  if (Array.isArray(op.security) && op.security.length === 0) return 'public';
  if (
    /^\/admin(\/|$)/.test(path) ||
    path === '/metrics' ||
    /\/erase$/.test(path) ||
    /^\/coaches\/\{[^}]+\}\/restore$/.test(path) ||
    /\(admin\b/.test(op.summary ?? '')
  )
    return 'admin';
  if (m === 'GET' || READS_BY_POST.has(`${m} ${path}`)) return 'reader';
  return 'editor';
}

/** Every operation of the OpenAPI document. */
export function apiRoutes(document: OpenApiLike): ApiRoute[] {
  return Object.entries(
    (document.paths ?? {}) as Record<string, Record<string, Operation> | undefined>,
  ).flatMap(([path, item]) =>
    Object.entries(item ?? {})
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        summary: op?.summary ?? '',
        need: needOf(method, path, op ?? {}),
      })),
  );
}

/**
 * The methods each path does not have (a `405` to anyone, before the key is looked at, or a `401`), its
 * parameters filled with `id`; leaving out those another route takes (`PATCH /documents/from-url` is
 * `PATCH /documents/{id}`).
 */
export function missingMethods(routes: ApiRoute[], id: string): Array<{ method: string; path: string }> {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) (byPath.get(r.path) ?? byPath.set(r.path, new Set()).get(r.path)!).add(r.method);
  const pattern = (template: string) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return [...byPath].flatMap(([template, methods]) => {
    const path = template.replace(/\{[^}]+\}/g, id);
    return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
      .filter((m) => !methods.has(m))
      .filter((m) => !routes.some((r) => r.method === m && pattern(r.path).test(path)))
      .map((method) => ({ method, path }));
  });
}

// -------------------------------------------------------------------------------------------------- the corpus

export type DocKey = 'carnivoreFree' | 'carnivorePremium' | 'vegan';
interface SeedDoc {
  id: string;
  coach: string;
  tier: 'free' | 'premium';
  marker: string;
}
export interface Fixture {
  docs: Record<DocKey, SeedDoc>;
  /** The global position after the seeding (search waits for it). */
  position: string;
  /** A moment after the seeding. */
  seededAt: string;
}

const word = () => `Zq${randomBytes(5).toString('hex')}x`;
/** What every seeded document says, so that one search finds them all. */
export const COMMON_WORDS = 'ledger protein creatine';

/**
 * Three documents, each with a marker word of its own in title and text and a second version (so that versions,
 * diff and rollback have something to show): carnivore's free and premium ones, and the vegan coach's.
 */
export async function seed(svc: TestService): Promise<Fixture> {
  const docs = {} as Record<DocKey, SeedDoc>;
  let position = '';
  const specs: Array<[DocKey, string, 'free' | 'premium']> = [
    ['carnivoreFree', 'carnivore', 'free'],
    ['carnivorePremium', 'carnivore', 'premium'],
    ['vegan', 'vegan', 'premium'],
  ];
  for (const [key, coach, tier] of specs) {
    const marker = word();
    // A file (so that GET …/file has one to give), its marker in the text, the title and the metadata.
    const form = new FormData();
    form.set('coachId', coach);
    form.set(
      'metadata',
      JSON.stringify({
        title: `Notes ${marker}`,
        documentType: 'guide',
        tags: ['matrix', marker],
        accessTier: tier,
        author: marker,
      }),
    );
    form.set(
      'file',
      new Blob([`The ${COMMON_WORDS} ${marker} notes, first draft.\n`]),
      `notes-${marker}.txt`,
    );
    const created = await svc.request('POST', '/documents', { as: 'admin', form });
    if (created.status !== 201) throw new Error(`seeding ${key}: ${created.status} ${created.bytes}`);
    const id = created.body.documentId as string;
    const edited = await svc.request('PATCH', `/documents/${id}`, {
      as: 'admin',
      json: {
        content: `The ${COMMON_WORDS} ${marker} notes, second draft.`,
        changeSummary: `redraft ${marker}`,
      },
    });
    if (edited.status !== 200) throw new Error(`editing ${key}: ${edited.status} ${edited.bytes}`);
    position = edited.body.position;
    docs[key] = { id, coach, tier, marker };
  }
  return { docs, position, seededAt: new Date().toISOString() };
}

function canSeeCoach(who: Who, coach: string): boolean {
  const c = CALLER[who].coaches;
  return c === '*' || c.includes(coach);
}

export function canSee(who: Who, doc: { coach: string; tier: string }): boolean {
  const c = CALLER[who];
  if (!c.role || !canSeeCoach(who, doc.coach)) return false;
  return c.role !== 'reader' || c.tier === 'premium' || doc.tier === 'free';
}

/** The marker words a caller must never get. */
export function forbiddenMarkers(who: Who, f: Fixture): string[] {
  return Object.values(f.docs)
    .filter((d) => !canSee(who, d))
    .map((d) => d.marker);
}

// -------------------------------------------------------------------------------------------------- requests

/** Which document a by-id request names: a seeded one, or an id that does not exist (well formed or not). */
export type Target = DocKey | 'random' | 'malformed';
export type CoachChoice = 'carnivore' | 'vegan' | 'unknown';

export interface Variant {
  target: Target;
  coach: CoachChoice;
  /** 0: the plain request; more: query parameter and body variants (the long run). */
  flavour: number;
}

export interface MatrixRequest {
  method: string;
  path: string;
  json?: unknown;
  form?: () => FormData;
  headers?: Record<string, string>;
  /** The seeded document the path names, if any. */
  doc?: SeedDoc;
  target?: Target;
  /** The coach the request names (body, query or path), if any. */
  coach?: string;
  /** A variant whose query or body may be refused on its own (a version that does not exist…). */
  odd: boolean;
}

const META = { documentType: 'guide', tags: ['scratch'], accessTier: 'free' };
const STALE = { 'if-match': '"9999"' };

function coachName(c: CoachChoice): string {
  return c === 'unknown' ? `nobody-${randomBytes(3).toString('hex')}` : c;
}

function idOf(target: Target, f: Fixture): string {
  if (target === 'random') return randomUUID();
  if (target === 'malformed')
    return pickOf(['not-a-uuid', '0', "x'or'1'='1", '%2e%2e%2fadmin', '9'.repeat(60)]);
  return f.docs[target].id;
}
function pickOf<T>(xs: T[]): T {
  return xs[Math.floor(Math.random() * xs.length)]!;
}

/** The query strings of GET-by-id and listing routes, by flavour (0 = none). */
const QUERY_FLAVOURS: Record<string, (f: Fixture) => string[]> = {
  'GET /documents/{id}': (f) => [
    '',
    '?version=1',
    '?version=2',
    '?version=99',
    `?asOf=${f.seededAt}`,
    '?asOf=2000-01-01T00:00:00Z',
    '?version=x',
  ],
  // Version 1 is the uploaded file; version 2 an edit of the text, which has none.
  'GET /documents/{id}/file': () => ['?version=1', '', '?version=99'],
  'GET /documents/{id}/diff': () => ['?from=1&to=2', '?from=2&to=1', '?from=1&to=99', '?from=a', ''],
  'GET /documents/{id}/versions': () => ['', '?limit=1'],
  'GET /documents': () => [
    '',
    '&status=retired',
    '&status=erased',
    '&limit=1',
    '&tag=matrix',
    '&documentType=guide',
    '&cursor=abc',
  ],
  'GET /changelog': (f) => ['', '&limit=1', `&after=${f.position}`, '&after=0.0', '&types=DocumentUploaded'],
  'GET /changelog/stream': () => ['', '&after=0.0'],
  'GET /admin/maintenance/runs': () => ['', '?limit=1', '?limit=0'],
  'GET /admin/sources': () => ['', '?limit=1'],
  'GET /admin/performance': () => ['', '?limit=1'],
};

/** The request a route gets for one variant: a body that passes validation, so that the scope checks are reached. */
export function requestFor(route: ApiRoute, v: Variant, f: Fixture): MatrixRequest {
  const key = `${route.method} ${route.path}`;
  const byId = route.path.includes('{id}');
  const doc = byId && v.target in f.docs ? f.docs[v.target as DocKey] : undefined;
  const id = byId ? idOf(v.target, f) : '';
  const coach = coachName(v.coach);
  const flavours = QUERY_FLAVOURS[key]?.(f) ?? [''];
  const query = flavours[v.flavour % flavours.length]!;
  const odd = v.flavour % flavours.length !== 0;
  const path = route.path
    .replace('{id}', encodeURIComponent(id).replace(/%25/g, '%'))
    .replace('{coachId}', encodeURIComponent(coach))
    // A projection that does not exist: a real one would make the admin's call rebuild it (not an access question).
    .replace('{name}', 'no-such-projection');
  const base: MatrixRequest = { method: route.method, path, doc, target: byId ? v.target : undefined, odd };
  switch (key) {
    case 'POST /search':
      return {
        ...base,
        coach,
        json: {
          coachId: coach,
          query: COMMON_WORDS,
          k: 100,
          minPosition: f.position,
          ...[
            {},
            { mode: 'text' },
            { mode: 'vector' },
            { asOf: f.seededAt },
            { filters: { tags: ['matrix'] } },
          ][v.flavour % 5],
        },
      };
    case 'POST /documents':
      return {
        ...base,
        coach,
        json: {
          coachId: coach,
          title: `Scratch ${randomBytes(4).toString('hex')}`,
          content: `Scratch text ${randomBytes(8).toString('hex')}.`,
          metadata: META,
        },
      };
    case 'POST /documents/from-url':
      // A loopback URL: refused (URL_NOT_ALLOWED) without any traffic, once the caller may act at all.
      return { ...base, coach, json: { coachId: coach, url: 'http://127.0.0.1:9/nothing', metadata: META } };
    case 'GET /documents':
      return { ...base, coach, path: `${path}?coachId=${encodeURIComponent(coach)}${query}` };
    case 'GET /changelog':
    case 'GET /changelog/stream':
      // Flavour 0 names the coach; odd flavours name none (every coach the key reaches).
      return v.flavour % 2 === 1
        ? { ...base, path: `${path}?limit=1000${query}`, odd: false }
        : { ...base, coach, path: `${path}?coachId=${encodeURIComponent(coach)}&limit=1000${query}` };
    case 'PATCH /documents/{id}':
      // A stale If-Match: an allowed caller gets 412 and nothing is written.
      return {
        ...base,
        headers: STALE,
        json: { content: 'Rewritten by the matrix.', changeSummary: 'matrix' },
      };
    case 'DELETE /documents/{id}':
      return { ...base, headers: STALE, json: { reason: 'matrix' } };
    case 'POST /documents/{id}/rollback':
      return { ...base, headers: STALE, json: { toVersion: 1, reason: 'matrix' } };
    case 'PUT /documents/{id}/file':
      return {
        ...base,
        headers: STALE,
        form: () => {
          const form = new FormData();
          form.set('file', new Blob(['A replacement text.']), 'replacement.txt');
          return form;
        },
      };
    case 'POST /documents/{id}/erase':
      // A seeded document without a reason: an admin gets 400 (nothing erased); anyone else must be refused before
      // the body is looked at. A document that does not exist with one: 404.
      return { ...base, json: doc ? {} : { reason: 'matrix' } };
    case 'POST /coaches/{coachId}/restore':
      return { ...base, coach, json: { asOf: f.seededAt, dryRun: true } };
    case 'POST /imports/csv':
      return {
        ...base,
        coach,
        form: () => {
          const form = new FormData();
          const csv = `coach_id,title,content,document_type,access_tier,tags\n${coach},Imported ${randomBytes(3).toString('hex')},Imported text ${randomBytes(6).toString('hex')},guide,free,scratch\n`;
          form.set('file', new Blob([csv], { type: 'text/csv' }), 'rows.csv');
          return form;
        },
      };
    default:
      return { ...base, path: `${path}${query}` };
  }
}

export interface Outcome {
  status: number;
  text: string;
}

/** One request as a caller; a server-sent stream is read for `streamMs`, then dropped. */
export async function send(base: string, who: Who, r: MatrixRequest, streamMs = 400): Promise<Outcome> {
  const headers: Record<string, string> = { ...r.headers };
  if (who !== 'none') headers.authorization = `Bearer ${KEYS[who]}`;
  let body: RequestInit['body'];
  if (r.form) body = r.form();
  else if (r.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(r.json);
  }
  const abort = new AbortController();
  const res = await fetch(base + r.path, { method: r.method, headers, body, signal: abort.signal });
  if (!/event-stream/.test(res.headers.get('content-type') ?? '')) {
    return { status: res.status, text: await res.text() };
  }
  const reader = res.body!.getReader();
  const chunks: Buffer[] = [];
  const until = Date.now() + streamMs;
  const stop = setTimeout(() => abort.abort(), streamMs);
  try {
    while (Date.now() < until) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
    }
  } catch {
    // aborted: what came so far is the answer
  } finally {
    clearTimeout(stop);
    abort.abort();
  }
  return { status: res.status, text: Buffer.concat(chunks).toString('utf8') };
}

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

/** Every (caller, variant) of a route: one per target or coach for the plain run; `flavours` more in the long one. */
export function variantsOf(
  route: ApiRoute,
  flavours: number[] = [0],
  options: { malformed?: boolean; unknownCoach?: boolean } = {},
): Variant[] {
  const byId = route.path.includes('{id}');
  const namesCoach = [
    'POST /search',
    'POST /documents',
    'POST /documents/from-url',
    'GET /documents',
    'GET /changelog',
    'GET /changelog/stream',
    'POST /coaches/{coachId}/restore',
    'POST /imports/csv',
  ].includes(`${route.method} ${route.path}`);
  const targets: Target[] = byId
    ? [
        'carnivoreFree',
        'carnivorePremium',
        'vegan',
        'random',
        ...(options.malformed ? ['malformed' as const] : []),
      ]
    : ['carnivoreFree'];
  const coaches: CoachChoice[] = namesCoach
    ? ['carnivore', 'vegan', ...(options.unknownCoach ? ['unknown' as const] : [])]
    : ['carnivore'];
  return flavours.flatMap((flavour) =>
    targets.flatMap((target) => coaches.map((coach) => ({ target, coach, flavour }))),
  );
}

/** Environment for the matrix's service: its hundreds of refusals must not run into the per-address limits. */
export const MATRIX_ENV = { AUTH_FAILURES_PER_MINUTE: '1000000', RATE_LIMIT_PER_MINUTE: '1000000' };
