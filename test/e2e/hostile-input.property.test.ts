import fc from 'fast-check';
import { apiRoutes } from '../support/auth-matrix/routes.js';
import { MATRIX_ENV, send } from '../support/auth-matrix/send.js';
import { serviceTargets, startService, type TestService, type Who } from '../support/service.js';

/** Requests per target: 150 in `npm test`; the long run sets FUZZ_RUNS (RELIABILITY.md). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/**
 * The hostile-input fuzzer (issue 17), over every operation of the service's OpenAPI document, as a free reader
 * and as an editor: path parameters, JSON bodies, query strings and headers full of what breaks stores and
 * parsers (NUL and other control characters, unpaired surrogates, huge and deeply nested values, prototype
 * keys). Whatever is sent: no 500, no SQL or stack text in the answer, and a reader never sees another coach's
 * document or a premium one on a free key.
 */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udc00y',
    '\u202e',
    '\u0007\u001b[2J',
    "'; DROP TABLE events;--",
  ),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '%00',
    '%ZZ',
    '\\',
    '"',
    'Zanzibar',
    'vegan',
    'carnivore',
  ),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);
const deep = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: deep(depth - 1) });
const value: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.array(nasty, { maxLength: 5 }),
  fc.dictionary(nasty, nasty, { maxKeys: 4 }),
  fc.integer({ min: 20, max: 200 }).map(deep),
);
const coach = fc.oneof(fc.constantFrom('carnivore', 'vegan'), nasty);
/** Free-form bodies, and bodies shaped like a search or an upload (so that the fuzz reaches past validation). */
const body = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.constantFrom('coachId', 'title', 'content', 'metadata', 'query', 'minPosition', '__proto__'),
      nasty,
    ),
    value,
    { maxKeys: 6 },
  ),
  fc.record({ coachId: coach, query: nasty, k: fc.integer({ min: 1, max: 100 }) }),
  fc.record({
    coachId: coach,
    title: nasty,
    content: nasty,
    metadata: fc.record({
      documentType: fc.constantFrom('guide', 'research'),
      tags: fc.array(nasty, { maxLength: 3 }),
      accessTier: fc.constantFrom('free', 'premium'),
      author: nasty,
      custom: fc.dictionary(nasty, value, { maxKeys: 3 }),
    }),
  }),
);
/** Header values a client can send (no NUL, CR, LF or characters above U+00FF: fetch itself refuses those). */
const headerValue = nasty.map((v) => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, ''));
/** The headers the API reads besides the key: replays, versions, request ids, what the client accepts. */
const headers = fc.dictionary(
  fc.constantFrom('idempotency-key', 'if-match', 'x-request-id', 'accept', 'accept-language'),
  headerValue,
  { maxKeys: 3 },
);
/** Every byte of a string's UTF-8 percent-encoded (encodeURIComponent refuses an unpaired surrogate). */
const percentEncoded = (v: string) =>
  [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
/**
 * A path parameter: the document that exists (so the fuzz reaches past the lookup), anything at all, or an
 * encoding a decoder chokes on (malformed, NUL, an encoded surrogate, a way out of the path).
 */
const pathParameter = fc.oneof(
  fc.constant('DOC'),
  nasty.map(percentEncoded),
  fc.constantFrom('%ZZ', '%00', '%ED%A0%80', '..', '%2e%2e%2f', '%'),
);

const LEAK =
  /\bat \/|node_modules|SELECT |INSERT |syntax error|invalid input syntax|unsupported Unicode|byte sequence/i;

describe.each(serviceTargets())('hostile input on %s', (kind) => {
  let svc: TestService;
  let doc: string;
  beforeAll(async () => {
    // Hundreds of refusals a minute from one key and address: the rate limits would answer most with 429.
    svc = await startService(kind, MATRIX_ENV);
    const premium = { documentType: 'guide', tags: ['p'], accessTier: 'premium' };
    await svc.request('POST', '/documents', {
      json: {
        coachId: 'vegan',
        title: 'Vegan Xylophonist',
        content: 'Zanzibar vegan Xylophonist.',
        metadata: premium,
      },
    });
    doc = (
      await svc.request('POST', '/documents', {
        json: {
          coachId: 'carnivore',
          title: 'Premium Quixotic',
          content: 'Zanzibar premium Quixotic.',
          metadata: premium,
        },
      })
    ).body.documentId;
  }, 60_000);
  afterAll(() => svc?.close());

  it('never answers 500, never shows SQL or a stack, never leaks across coach or tier', async () => {
    // Every operation the service documents, so that a new route is fuzzed at once.
    const routes = apiRoutes((await svc.request('GET', '/openapi.json')).body);
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Who>('freeReader', 'editor'),
        fc.constantFrom(...routes),
        fc.array(pathParameter, { minLength: 3, maxLength: 3 }),
        body,
        fc.dictionary(nasty, nasty, { maxKeys: 3 }),
        headers,
        async (who, route, parameters, json, query, extra) => {
          let n = 0;
          const path = route.path.replace(/\{[^}]+\}/g, () => parameters[n++]!.replace('DOC', doc));
          const qs = new URLSearchParams(Object.entries(query) as Array<[string, string]>).toString();
          const url = `${path}${qs ? `?${qs}` : ''}`;
          // As the authorisation matrix sends: a server-sent stream (the changelog's) is read briefly, then dropped.
          const request = { method: route.method, path: url, headers: extra, odd: true };
          const r = await send(
            svc.base,
            who,
            route.method === 'GET' ? request : { ...request, json },
            200,
          ).catch((e: Error) => ({ status: 0, text: e.message }));
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          expect(r.status).toBeGreaterThan(0);
          expect(r.status).toBeLessThan(500);
          expect(r.text).not.toMatch(LEAK);
          // Only the documents hold these words (the fuzzer never sends them): seeing one is a leak. Both keys are
          // the carnivore coach's; the premium document is hidden from the free reader only.
          expect(r.text).not.toMatch(/Xylophonist/);
          if (who === 'freeReader') expect(r.text).not.toMatch(/Quixotic/);
        },
      ),
      { numRuns: RUNS, seed: 17 },
    );
    // The figure for RELIABILITY.md: how many requests, answered how.
    process.stderr.write(
      `hostile input on ${kind}: ${RUNS} requests, statuses ${JSON.stringify(statuses)}\n`,
    );
    const editor = await svc.request('POST', '/search', {
      as: 'editor' as Who,
      json: { coachId: 'carnivore', query: 'Zanzibar\u0000' },
    });
    expect(editor.status).toBe(400);
  });
});
