import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import { LOCAL_MIN_SIMILARITY } from '../../src/projections/chunks/chunks.config.js';
import { CACHED_VECTORS_SQL } from '../../src/projections/chunks/embedding-cache.js';
import { ChunkSearch, plannedRows } from '../../src/projections/chunks/search.js';
import { searchRequestSchema } from '../../src/projections/chunks/search.schema.js';
import { DEFAULT_VECTOR_INDEX, vectorIndexName } from '../../src/projections/chunks/vector-index.js';
import { targets } from '../support/databases.js';
import { TestClock } from '../support/clock.js';
import { startService, type TestService, type Who } from '../support/service.js';

const doc = (title: string, content: string, extra: Record<string, unknown> = {}, coachId = 'carnivore') => ({
  coachId,
  title,
  content,
  format: 'markdown',
  metadata: { documentType: 'research', tags: ['protein'], accessTier: 'free', ...extra },
});

/** Writes are recorded at this clock's time; `moment()` names an instant after the last write and before the next. */
const clock = new TestClock();
const moment = () => clock.moment();

describe.each(targets())('search over HTTP on %s', (kind) => {
  let svc: TestService;
  let ids: Record<string, string>;
  let lastPosition: string;

  const upload = async (body: ReturnType<typeof doc>) => {
    const r = await svc.request('POST', '/documents', { json: body });
    expect(r.status).toBe(201);
    lastPosition = r.body.position;
    return r.body.documentId as string;
  };
  const search = (body: Record<string, unknown>, as: Who = 'admin') =>
    svc.request('POST', '/search', {
      json: { coachId: 'carnivore', minPosition: lastPosition, ...body },
      as,
    });
  const docsOf = (r: { body: { results: Array<{ documentId: string }> } }) => [
    ...new Set(r.body.results.map((x) => x.documentId)),
  ];

  beforeAll(async () => {
    // The vector indexes from the first chunk (the plans are checked below), not from EXACT_SEARCH_MAX's.
    svc = await startService(kind, { QUERY_CACHE_TTL_SECONDS: '0', VECTOR_INDEX_MIN_CHUNKS: '0' }, { clock });
    ids = {
      liver: await upload(
        doc(
          'Liver and vitamin A',
          '# Liver\n\nBeef liver is the richest food source of retinol (vitamin A).',
          {
            tags: ['organ-meats'],
            publicationDate: '2020-05-01',
          },
        ),
      ),
      ketones: await upload(
        doc(
          'Ketosis protocol',
          '# Ketosis\n\nA premium protocol: ketone bodies rise after three days of carbohydrate restriction.',
          { accessTier: 'premium', documentType: 'protocol', tags: ['keto'], publicationDate: '2023-01-10' },
        ),
      ),
      sleep: await upload(
        doc('Sleep and recovery', 'Deep sleep supports muscle recovery after resistance training.', {
          documentType: 'guide',
          tags: ['recovery'],
          publicationDate: '2018-03-03',
        }),
      ),
      vegan: await upload(
        doc(
          'Vegan liver',
          'Mushroom pate as a plant-based liver alternative rich in vitamin A.',
          {},
          'vegan',
        ),
      ),
    };
  });
  afterAll(() => svc?.close());

  it.each(['hybrid', 'vector', 'text'])(
    'finds the passage that answers, in %s mode, with offsets into the text',
    async (mode) => {
      const r = await search({ query: 'which food has the most vitamin A retinol', mode, k: 3 });
      expect(r.status).toBe(200);
      expect(r.body.results[0]).toMatchObject({
        documentId: ids.liver,
        title: 'Liver and vitamin A',
        version: 1,
      });
      const top = r.body.results[0];
      const full = await svc.request('GET', `/documents/${ids.liver}`);
      expect(full.body.content.slice(top.startChar, top.endChar)).toBe(top.content);
      expect(top.section).toBe('Liver');
      expect(typeof top.score).toBe('number');
      expect(r.body.position).toEqual(expect.any(String));
    },
  );

  it('returns nothing for an off-topic query in vector and hybrid mode (the vector floor), and results for an on-topic one', async () => {
    const offTopic = 'How do I replace the brake pads on my car?';
    for (const mode of ['vector', 'hybrid', 'text']) {
      const r = await search({ query: offTopic, mode, k: 5 });
      expect([mode, r.status, r.body.results]).toEqual([mode, 200, []]);
    }
    const on = await search({ query: 'beef liver retinol', mode: 'vector', k: 5 });
    expect(docsOf(on)[0]).toBe(ids.liver);
    // Every result is at or above the local embedder's default floor.
    for (const hit of on.body.results) expect(hit.score).toBeGreaterThanOrEqual(LOCAL_MIN_SIMILARITY);
  });

  it('returns nothing in hybrid mode when no vector candidate passes the floor, even where BM25 matches a word', async () => {
    // "training" is a word of the sleep passage (BM25 finds it in text mode), but the query is about football.
    const offTopic = 'What is the offside rule in football training?';
    const text = await search({ query: offTopic, mode: 'text', k: 5 });
    expect(docsOf(text)).toEqual([ids.sleep]);
    const hybrid = await search({ query: offTopic, mode: 'hybrid', k: 5 });
    expect([hybrid.status, hybrid.body.results]).toEqual([200, []]);
    const on = await search({ query: 'muscle recovery after training', mode: 'hybrid', k: 5 });
    expect(docsOf(on)[0]).toBe(ids.sleep);
  });

  it('never gives a premium passage to a free reader, in any mode', async () => {
    for (const mode of ['hybrid', 'vector', 'text']) {
      const free = await search(
        { query: 'ketone bodies carbohydrate restriction', mode, k: 10 },
        'freeReader',
      );
      expect(free.status).toBe(200);
      expect(docsOf(free)).not.toContain(ids.ketones);
      expect(
        free.body.results.every(
          (x: { metadata: { accessTier: string } }) => x.metadata.accessTier === 'free',
        ),
      ).toBe(true);
      const premium = await search(
        { query: 'ketone bodies carbohydrate restriction', mode, k: 10 },
        'premiumReader',
      );
      expect(docsOf(premium)).toContain(ids.ketones);
    }
  });

  it('keeps a reader to its coaches: another coach is 403, and results never cross coaches', async () => {
    expect((await search({ coachId: 'vegan', query: 'liver' }, 'freeReader')).status).toBe(403);
    expect(docsOf(await search({ query: 'liver vitamin A', k: 10 }))).not.toContain(ids.vegan);
    expect(docsOf(await search({ coachId: 'vegan', query: 'liver vitamin A', k: 10 }))).toEqual([ids.vegan]);
  });

  it('filters by tags, document types, access tier and publication dates', async () => {
    const q = { query: 'protocol liver sleep ketone recovery vitamin', k: 10, mode: 'hybrid' };
    expect(docsOf(await search({ ...q, filters: { tags: ['keto'] } }))).toEqual([ids.ketones]);
    expect(docsOf(await search({ ...q, filters: { documentTypes: ['guide'] } }))).toEqual([ids.sleep]);
    expect(docsOf(await search({ ...q, filters: { accessTier: 'premium' } }))).toEqual([ids.ketones]);
    expect(new Set(docsOf(await search({ ...q, filters: { publishedAfter: '2019-01-01' } })))).toEqual(
      new Set([ids.liver, ids.ketones]),
    );
    expect(docsOf(await search({ ...q, filters: { publishedBefore: '2019-01-01' } }))).toEqual([ids.sleep]);
  });

  it('reads its own write: with minPosition an upload is searchable in the very next request', async () => {
    const id = await upload(
      doc('Sardines', 'Sardines supply omega-3 fatty acids and calcium from their bones.'),
    );
    const r = await search({ query: 'omega-3 sardines calcium', k: 1 });
    expect(docsOf(r)).toEqual([id]);
  });

  it('moves superseded chunks out of current search, keeping their validity for as-of search', async () => {
    const id = await upload(doc('Creatine', 'Creatine monohydrate improves sprint performance.'));
    const before = moment();
    const edited = await svc.request('PATCH', `/documents/${id}`, {
      json: { content: 'Beta-alanine buffers acid during high-intensity efforts.' },
    });
    lastPosition = edited.body.position;
    expect(docsOf(await search({ query: 'monohydrate sprint performance', mode: 'text' }))).not.toContain(id);
    expect(docsOf(await search({ query: 'beta-alanine buffers acid', mode: 'text' }))).toContain(id);
    const then = await search({ query: 'monohydrate sprint performance', mode: 'text', asOf: before });
    expect(then.body.results).toEqual([expect.objectContaining({ documentId: id, version: 1 })]);
    const { rows } = await svc.db.client.query<{ version: number; is_current: boolean; closed: boolean }>(
      `SELECT version, is_current, valid_to IS NOT NULL AND valid_to_at IS NOT NULL AS closed
       FROM chunks WHERE document_id = $1 ORDER BY version`,
      [id],
    );
    expect(rows).toEqual([
      { version: 1, is_current: false, closed: true },
      { version: 2, is_current: true, closed: false },
    ]);
  });

  it('reads past chunks in an as-of search through their own vector and full-text indexes', async () => {
    const id = await upload(doc('Nitrate', 'Beetroot nitrate lowers the oxygen cost of cycling.'));
    const before = moment();
    lastPosition = (
      await svc.request('PATCH', `/documents/${id}`, {
        json: { content: 'Caffeine delays fatigue in rowing.' },
      })
    ).body.position;
    await search({ query: 'x' }); // waits for the projection to reach the edit
    const { rows } = await svc.db.client.query<{ space: string; chunker: string }>(
      'SELECT space, chunker FROM chunks WHERE document_id = $1 LIMIT 1',
      [id],
    );
    const embedder = new LocalEmbedder();
    const search_ = new ChunkSearch(svc.db.client, embedder, {
      ...rows[0]!,
      dimensions: embedder.dimensions,
      index: DEFAULT_VECTOR_INDEX,
      exactSearchMax: 0, // never exact: the indexes are what this is about
    });
    const request = searchRequestSchema.parse({
      coachId: 'carnivore',
      query: 'beetroot nitrate',
      asOf: before,
    });
    // Each statement becomes its EXPLAIN, in a transaction rolled back at the end, with every other way to the
    // rows made too dear or dropped: an index whose predicate the query does not match cannot be in the plan.
    // (On a table this small the planner would rather read the B-trees on coach and validity.)
    const rollback = new Error('rollback');
    const plans = { text: '', vector: '' };
    await svc.db.client
      .transaction(async (tx) => {
        for (const setting of ['seqscan', 'sort', 'material'].map((p) => `SET LOCAL enable_${p} = off`))
          await tx.exec(setting);
        const explaining = {
          exec: (q: string) => tx.exec(q),
          query: (q: string, p?: readonly unknown[]) =>
            tx.query(q.startsWith('EXPLAIN') ? q : `EXPLAIN ${q}`, p),
        } as typeof tx;
        const plan = (r: unknown[]) => r.map((x) => Object.values(x as object)[0]).join('\n');
        const [vector] = await embedder.embed([request.query]);
        plans.vector = plan(await search_.vector(request, false, vector!, 10, explaining));
        await tx.exec(`DROP INDEX chunks_validity; DROP INDEX chunks_current_coach;
          ALTER TABLE chunks DROP CONSTRAINT chunks_document_key;
          SET LOCAL enable_indexscan = off`);
        plans.text = plan(await search_.text(request, false, 10, explaining));
        throw rollback;
      })
      .catch((e) => {
        if (e !== rollback) throw e;
      });
    const hnsw = vectorIndexName(DEFAULT_VECTOR_INDEX, rows[0]!.space, rows[0]!.chunker);
    expect(plans.vector).toContain(`Index Scan using ${hnsw}_past on chunks`);
    expect(plans.vector).toContain(`Index Scan using ${hnsw} on chunks`);
    expect(plans.text).toContain('chunks_tsv_past');
    expect(plans.text).toMatch(/on chunks_tsv\b/);
    // And the as-of search finds the past version.
    const then = await search({ query: 'beetroot nitrate oxygen', mode: 'vector', asOf: before, k: 1 });
    expect(then.body.results).toEqual([expect.objectContaining({ documentId: id, version: 1 })]);
  });

  it('compares the query with every chunk when the filters leave few, and walks the vector index otherwise', async () => {
    await svc.db.client.exec('ANALYZE chunks'); // the decision is the planner's estimate
    const { rows } = await svc.db.client.query<{ space: string; chunker: string; few: number; all: number }>(
      `SELECT space, chunker, count(*) FILTER (WHERE tags && '{keto}')::int AS few, count(*)::int AS all
       FROM chunks WHERE coach_id = 'carnivore' AND is_current GROUP BY space, chunker`,
    );
    const { space, chunker, few, all } = rows[0]!;
    expect(all).toBeGreaterThan(few);
    // The planner's estimates of the chunks each filter leaves; the search is exact at or below exactSearchMax.
    const estimate = (tags: string) =>
      plannedRows(
        svc.db.client,
        `SELECT 1 FROM chunks WHERE coach_id = 'carnivore' AND is_current
           AND space = $1 AND chunker = $2 ${tags}`,
        [space, chunker],
      );
    const [keto, coach] = [await estimate(`AND tags && '{keto}'`), await estimate('')];
    expect(keto).toBeLessThan(coach);
    const embedder = new LocalEmbedder();
    const scope = { space, chunker, dimensions: embedder.dimensions, index: DEFAULT_VECTOR_INDEX };
    const search_ = new ChunkSearch(svc.db.client, embedder, { ...scope, exactSearchMax: keto });
    const [vector] = await embedder.embed(['ketone esters']);
    const rollback = new Error('rollback');
    const explain = async (filters: object) => {
      let plan = '';
      await svc.db.client
        .transaction(async (tx) => {
          // The table is small: the vector index must look cheaper than reading it or sorting its rows.
          await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off');
          const explaining = {
            exec: (q: string) => tx.exec(q),
            query: (q: string, p?: readonly unknown[]) =>
              q.startsWith('EXPLAIN') ? tx.query(q, p) : tx.query(`EXPLAIN (COSTS OFF) ${q}`, p),
          } as typeof tx;
          const request = searchRequestSchema.parse({
            coachId: 'carnivore',
            query: 'ketone esters',
            filters,
          });
          const r = await search_.vector(request, false, vector!, 10, explaining);
          plan = r.map((x) => Object.values(x as object)[0]).join('\n');
          throw rollback;
        })
        .catch((e) => {
          if (e !== rollback) throw e;
        });
      return plan;
    };
    const hnsw = vectorIndexName(DEFAULT_VECTOR_INDEX, space, chunker);
    expect(await explain({ tags: ['keto'] })).not.toContain(hnsw);
    expect(await explain({})).toContain(`Index Scan using ${hnsw}`);
    // And both ways find the same nearest chunks.
    const request = searchRequestSchema.parse({ coachId: 'carnivore', query: 'ketone esters', filters: {} });
    const exact = new ChunkSearch(svc.db.client, embedder, { ...scope, exactSearchMax: 1e9 });
    const ids = async (s: ChunkSearch) => (await s.vector(request, false, vector!, 3)).map((r) => r.id);
    expect(await ids(search_)).toEqual(await ids(exact));
  });

  it('asks the planner for the estimate of a filter set once, and again for other filters', async () => {
    const { rows } = await svc.db.client.query<{ space: string; chunker: string }>(
      `SELECT space, chunker FROM chunks WHERE coach_id = 'carnivore' LIMIT 1`,
    );
    const embedder = new LocalEmbedder();
    const search_ = new ChunkSearch(svc.db.client, embedder, {
      ...rows[0]!,
      dimensions: embedder.dimensions,
      index: DEFAULT_VECTOR_INDEX,
    });
    const [vector] = await embedder.embed(['ketone esters']);
    const explained: unknown[][] = [];
    const run = (filters: object, coachId = 'carnivore') =>
      svc.db.client.transaction(async (tx) => {
        const counting = {
          exec: (q: string) => tx.exec(q),
          query: (q: string, p?: readonly unknown[]) => {
            if (q.startsWith('EXPLAIN')) explained.push([...(p ?? [])]);
            return tx.query(q, p);
          },
        } as typeof tx;
        const request = searchRequestSchema.parse({ coachId, query: 'ketone esters', filters });
        return (await search_.vector(request, false, vector!, 5, counting)).map((r) => r.id);
      });
    const first = await run({ tags: ['keto'] });
    expect(first.length).toBeGreaterThan(0);
    expect(await run({ tags: ['keto'] })).toEqual(first);
    expect(explained).toEqual([['carnivore', ['keto']]]);
    await run({});
    await run({ tags: ['keto'] });
    await run({ tags: ['keto'] }, 'someone-else');
    expect(explained).toEqual([['carnivore', ['keto']], ['carnivore'], ['someone-else', ['keto']]]);
  });

  it('drops a retired document from search and brings it back with a rollback', async () => {
    const id = await upload(doc('Magnesium', 'Magnesium glycinate before bed for sleep quality.'));
    lastPosition = (await svc.request('DELETE', `/documents/${id}`)).body.position;
    expect(docsOf(await search({ query: 'magnesium glycinate', mode: 'text' }))).not.toContain(id);
    lastPosition = (await svc.request('POST', `/documents/${id}/rollback`, { json: { toVersion: 1 } })).body
      .position;
    expect(docsOf(await search({ query: 'magnesium glycinate', mode: 'text' }))).toContain(id);
  });

  it('removes every chunk and cached vector of an erased document (cached results: the query cache tests)', async () => {
    const id = await upload(doc('Erasable', 'Zinc picolinate ZQXMARKER absorption.'));
    expect(docsOf(await search({ query: 'zinc picolinate', mode: 'text' }))).toContain(id);
    const rows = (
      await svc.db.client.query<{ h: string; space: string }>(
        'SELECT embedded_sha256 AS h, space FROM chunks WHERE document_id = $1',
        [id],
      )
    ).rows;
    const hashes = [...new Set(rows.map((r) => r.h))];
    // The vectors the projection would reuse for these texts (from chunks, or the cache of vectors no chunk holds).
    const vectors = () =>
      svc.db.client.query(CACHED_VECTORS_SQL, [rows[0]!.space, hashes]).then((r) => r.rows.length);
    expect(await vectors()).toBe(hashes.length);
    lastPosition = (await svc.request('POST', `/documents/${id}/erase`, { json: { reason: 'request' } })).body
      .position;
    expect(docsOf(await search({ query: 'zinc picolinate', mode: 'text' }))).not.toContain(id);
    const left = await svc.db.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM chunks WHERE document_id = $1 OR content LIKE '%ZQXMARKER%'`,
      [id],
    );
    expect(left.rows[0]!.n).toBe(0);
    expect(await vectors()).toBe(0);
  });

  it('refuses bad requests with VALIDATION_FAILED and a key-less request with 401', async () => {
    for (const body of [
      { query: '' },
      { query: 'x', k: 0 },
      { query: 'x', k: 101 },
      { query: 'x', mode: 'semantic' },
      { query: 'x', filters: { documentTypes: ['novel'] } },
      { query: 'x', filters: { colour: 'red' } },
      { query: 'x', asOf: 'yesterday' },
      { query: 'x', minPosition: 'abc' },
    ]) {
      const r = await search(body);
      expect([r.status, r.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    expect((await search({ query: 'x' }, 'none')).status).toBe(401);
  });

  it('refuses a minPosition beyond every event written with 400 INVALID_POSITION (not a 503 to retry)', async () => {
    const r = await search({ query: 'x', minPosition: '999999999999.1' });
    expect([r.status, r.body.code]).toEqual([400, 'INVALID_POSITION']);
    expect(r.body.detail).toMatch(/beyond every event written so far/);
  });
});

describe.each(targets())('the query cache on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind, { QUERY_CACHE_TTL_SECONDS: '60' })));
  afterAll(() => svc?.close());
  const ask = (query: string, minPosition: string) =>
    svc.request('POST', '/search', { json: { coachId: 'carnivore', query, minPosition } });
  /** Cached results that hold this text. */
  const cachedWith = async (marker: string) =>
    (
      await svc.db.client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM rag_query_cache WHERE strpos(results::text, $1) > 0',
        [marker],
      )
    ).rows[0]!.n;
  const erase = (documentId: string) =>
    svc.request('POST', `/documents/${documentId}/erase`, { json: { reason: 'request' } });

  it('answers a repeated query from rag_query_cache, and a write changes the key', async () => {
    const up = await svc.request('POST', '/documents', { json: doc('Eggs', 'Eggs are a complete protein.') });
    const eggs = (minPosition: string) => ask('Complete  PROTEIN eggs', minPosition);
    const first = await eggs(up.body.position);
    const count = async () =>
      Number(
        (await svc.db.client.query<{ n: number }>('SELECT count(*) AS n FROM rag_query_cache')).rows[0]!.n,
      );
    expect(await count()).toBe(1);
    // Poison the cached entry: a second answer that shows the poison can only have come from the cache.
    await svc.db.client.query(`UPDATE rag_query_cache SET results = '[]'::jsonb`);
    expect((await eggs(up.body.position)).body.results).toEqual([]);
    const next = await svc.request('POST', '/documents', {
      json: doc('Fish', 'Fish is a complete protein too.'),
    });
    const fresh = await eggs(next.body.position);
    // Not the poisoned entry: computed anew at the new position, it finds both documents.
    const found = new Set(fresh.body.results.map((r: { documentId: string }) => r.documentId));
    expect(found).toEqual(new Set([up.body.documentId, next.body.documentId]));
    expect(first.body.results.map((r: { documentId: string }) => r.documentId)).toContain(up.body.documentId);
    expect(await count()).toBe(2);
  });

  it("an erasure removes every cached result of the document's coach", async () => {
    const up = await svc.request('POST', '/documents', {
      json: doc('Erasable', 'Selenium from brazil nuts QCXMARKER in small doses.'),
    });
    expect(
      (await ask('selenium brazil nuts', up.body.position)).body.results.map(
        (r: { documentId: string }) => r.documentId,
      ),
    ).toContain(up.body.documentId);
    expect(await cachedWith('QCXMARKER')).toBe(1);
    const erased = await erase(up.body.documentId);
    expect((await ask('selenium brazil nuts', erased.body.position)).body.results).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ documentId: up.body.documentId })]),
    );
    expect(await cachedWith('QCXMARKER')).toBe(0);
  });

  it('clears the cached results of a coach even when another configuration already deleted the chunks', async () => {
    const up = await svc.request('POST', '/documents', {
      json: doc('Erasable twice', 'Iodine from kelp QCYMARKER for the thyroid.'),
    });
    await ask('iodine kelp thyroid', up.body.position);
    expect(await cachedWith('QCYMARKER')).toBe(1);
    // What the projector of another chunk configuration does first when both project an erasure: it deletes the
    // document's chunks of every configuration. This projector's erasure then finds no chunk to learn the coach from.
    await svc.db.client.query('DELETE FROM chunks WHERE document_id = $1', [up.body.documentId]);
    await ask('iodine kelp thyroid', (await erase(up.body.documentId)).body.position);
    expect(await cachedWith('QCYMARKER')).toBe(0);
  });
});
