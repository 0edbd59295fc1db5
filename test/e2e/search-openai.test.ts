import { targets } from '../support/databases.js';
import { FakeEmbeddings } from '../support/fake-embeddings.js';
import { startService, type TestService } from '../support/service.js';

describe.each(targets())('search with an OpenAI-compatible embedder on %s', (kind) => {
  let fake: FakeEmbeddings;
  let svc: TestService;
  beforeAll(async () => {
    fake = new FakeEmbeddings();
    const baseUrl = await fake.start();
    svc = await startService(kind, {
      EMBEDDINGS_PROVIDER: 'openai',
      OPENAI_BASE_URL: baseUrl,
      OPENAI_API_KEY: 'sk-test-0123456789',
      EMBEDDINGS_MODEL: 'fake-embed',
      EMBEDDINGS_DIMENSIONS: '64',
      SEARCH_WAIT_TIMEOUT_MS: '30000',
      SEARCH_EMBEDDING_TIMEOUT_MS: '2000',
      QUERY_CACHE_TTL_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  it('rides out a 429 with Retry-After and two 500s, then indexes with that model and finds the document', async () => {
    fake.failures.push({ status: 429, headers: { 'retry-after': '1' } }, { status: 500 }, { status: 500 });
    const up = await svc.request('POST', '/documents', {
      json: {
        coachId: 'carnivore',
        title: 'Bone broth',
        content: 'Bone broth provides collagen and glycine.',
        metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
      },
    });
    const r = await svc.request('POST', '/search', {
      json: {
        coachId: 'carnivore',
        query: 'collagen glycine broth',
        mode: 'vector',
        minPosition: up.body.position,
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ documentId: up.body.documentId });
    expect(fake.failures).toEqual([]);
    const chunkRequests = fake.requests.filter((q) => q.input.some((t) => t.includes('Bone broth')));
    expect(chunkRequests.length).toBe(4); // 429, 500, 500, then the answer
    expect(
      fake.requests.every(
        (q) => q.encoding_format === 'float' && q.model === 'fake-embed' && q.dimensions === 64,
      ),
    ).toBe(true);
    const { rows } = await svc.db.client.query<{ space: string }>('SELECT DISTINCT space FROM chunks');
    expect(rows).toEqual([{ space: 'openai:fake-embed:64' }]);
    const projections = await svc.request('GET', '/admin/projections');
    expect(projections.body.find((p: { name: string }) => p.name === 'chunks')).toMatchObject({
      deadLetters: [],
      lag: 0,
    });
  });

  it('sends a refused input to the dead letters, shows it in GET /admin/projections, and goes on', async () => {
    const refused = await svc.request('POST', '/documents', {
      json: {
        coachId: 'carnivore',
        title: 'Refused',
        content: 'The provider refuses this text: REFUSE-ME.',
        metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
      },
    });
    const next = await svc.request('POST', '/documents', {
      json: {
        coachId: 'carnivore',
        title: 'Accepted',
        content: 'Sauerkraut is a fermented cabbage.',
        metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
      },
    });
    const r = await svc.request('POST', '/search', {
      json: {
        coachId: 'carnivore',
        query: 'fermented cabbage',
        mode: 'vector',
        minPosition: next.body.position,
      },
    });
    expect(r.body.results[0]).toMatchObject({ documentId: next.body.documentId });
    const chunks = (await svc.request('GET', '/admin/projections')).body.find(
      (p: { name: string }) => p.name === 'chunks',
    );
    expect(chunks.deadLetters).toEqual([
      expect.objectContaining({
        streamId: `document-${refused.body.documentId}`,
        eventType: 'DocumentUploaded',
        errorCode: 'EMBEDDING_REFUSED',
      }),
    ]);
  });

  it('answers 503 EMBEDDINGS_UNAVAILABLE when the provider cannot embed the query in time or refuses it; text mode still answers', async () => {
    const ask = (query: string, mode: string) =>
      svc.request('POST', '/search', { json: { coachId: 'carnivore', query, mode } });
    // More failures than the embedder retries within SEARCH_EMBEDDING_TIMEOUT_MS (without that budget: a 500
    // INTERNAL_ERROR once its retries were spent, after minutes).
    fake.failures.push(...Array.from({ length: 100 }, () => ({ status: 500 })));
    try {
      for (const mode of ['vector', 'hybrid']) {
        const r = await ask('collagen glycine', mode);
        expect(r.status).toBe(503);
        expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(r.body).toMatchObject({ status: 503, code: 'EMBEDDINGS_UNAVAILABLE' });
        expect(r.body.detail).toMatch(/did not answer within 2000 ms/);
      }
      const text = await ask('collagen glycine', 'text');
      expect(text.status).toBe(200);
      expect(text.body.results.length).toBeGreaterThan(0);
    } finally {
      fake.failures = [];
    }
    const refused = await ask('REFUSE-ME collagen', 'vector');
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('EMBEDDINGS_UNAVAILABLE');
  });
});
