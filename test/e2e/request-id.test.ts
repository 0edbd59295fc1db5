import { jest } from '@jest/globals';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(targets())('X-Request-Id on %s', (kind) => {
  describe('the header', () => {
    let svc: TestService;
    beforeAll(async () => {
      svc = await startService(kind);
    });
    afterAll(() => svc?.close());

    const idOf = async (path: string, headers: Record<string, string> = {}, as: 'admin' | 'none' = 'admin') =>
      (await svc.request('GET', path, { headers, as })).headers.get('x-request-id');

    it('is generated when the request has none: a new UUID each time', async () => {
      const [a, b] = [await idOf('/health'), await idOf('/health')];
      expect(a).toMatch(UUID);
      expect(b).toMatch(UUID);
      expect(a).not.toBe(b);
    });

    it("echoes the client's own id when it is short and safe", async () => {
      expect(await idOf('/health', { 'x-request-id': 'req-42.retry:1' })).toBe('req-42.retry:1');
      const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
      expect(await idOf('/health/ready', { 'x-request-id': trace })).toBe(trace);
    });

    it('replaces an id that is too long or holds unsafe characters', async () => {
      for (const bad of ['a'.repeat(65), 'two words', 'quote"d', 'line\tbreak', 'é-accent']) {
        const id = await idOf('/health', { 'x-request-id': bad });
        expect(id).toMatch(UUID);
      }
    });

    it('comes back on errors too: problem+json answers of the router, the guard and the handlers', async () => {
      const cases: Array<[string, 'admin' | 'none', number]> = [
        ['/no/such/path', 'admin', 404],
        ['/documents?coachId=carnivore', 'none', 401],
        ['/documents?coachId=carnivore&limit=1000', 'admin', 400],
      ];
      for (const [path, as, status] of cases) {
        const r = await svc.request('GET', path, { headers: { 'x-request-id': `err-${status}` }, as });
        expect(r.status).toBe(status);
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(r.headers.get('x-request-id')).toBe(`err-${status}`);
      }
      const notAllowed = await svc.request('DELETE', '/health', { headers: { 'x-request-id': 'err-405' } });
      expect(notAllowed.status).toBe(405);
      expect(notAllowed.headers.get('x-request-id')).toBe('err-405');
    });
  });

  describe('in JSON logs', () => {
    let svc: TestService;
    let lines: string[];
    let write: jest.SpiedFunction<typeof process.stdout.write>;

    beforeAll(async () => {
      lines = [];
      write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
      // A search that cannot wait long for its position: its refusal is logged (a warning) while it is handled.
      svc = await startService(kind, {
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'log',
        PROJECTOR_ENABLED: 'false',
        SEARCH_WAIT_TIMEOUT_MS: '1',
      });
    });
    afterAll(async () => {
      await svc?.close();
      write.mockRestore();
    });

    const logged = () =>
      lines.flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []));

    it('carries the request id in every line written while the request is handled, and one access line', async () => {
      lines.length = 0;
      const written = await svc.request('POST', '/documents', {
        json: {
          coachId: 'carnivore',
          title: 'Liver',
          content: 'Liver is dense.',
          format: 'text',
          metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
        },
      });
      const r = await svc.request('POST', '/search', {
        json: { coachId: 'carnivore', query: 'liver', minPosition: written.body.position },
        headers: { 'x-request-id': 'search-behind-1' },
      });
      expect(r.status).toBe(503);
      const mine = logged().filter((l) => l.requestId === 'search-behind-1');
      // The handler's warning (after the JSON body was parsed, in the stream's callbacks) and the access line.
      expect(mine).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          context: 'http',
          message: expect.stringMatching(/^READ_MODEL_BEHIND/),
        }),
      );
      const access = mine.filter((l) => l.route === '/search');
      expect(access).toEqual([
        expect.objectContaining({
          level: 'log',
          context: 'http',
          method: 'POST',
          route: '/search',
          status: 503,
          durationMs: expect.any(Number),
        }),
      ]);
      expect(logged().filter((l) => l.level === 'warn' && l.requestId === undefined)).toEqual([]);
    });
  });
});
