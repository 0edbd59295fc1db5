/**
 * The authorisation matrix's requests: the variants of each route (target document, named coach, flavour of query
 * or body) and the request each variant makes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ApiRoute } from './routes.js';
import { COMMON_WORDS, type DocKey, type Fixture, type SeedDoc } from './seed.js';

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
