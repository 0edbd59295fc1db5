import { EmbeddingError, type Embedder } from '../../src/infrastructure/embeddings/embedder.js';
import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import type { RecordedEvent } from '../../src/infrastructure/event-store/event-store.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { chunkerVersion, DEFAULT_CHUNKER_CONFIG } from '../../src/projections/chunks/chunker.js';
import { chunksProjection } from '../../src/projections/chunks/chunks.projection.js';
import { BULK_MIN_CHUNKS } from '../../src/projections/chunks/vector-index-lifecycle.js';
import { plannedRows } from '../../src/projections/chunks/search.js';
import {
  DEFAULT_VECTOR_INDEX,
  vectorIndexes,
  type VectorIndexConfig,
} from '../../src/projections/chunks/vector-index.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

/** Counts the texts it embeds, and refuses (or fails on) texts with a marker, as a provider would. */
class ProbeEmbedder implements Embedder {
  readonly inner = new LocalEmbedder();
  readonly space = this.inner.space;
  readonly dimensions = this.inner.dimensions;
  embedded = 0;
  outage = false;
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.outage) throw new EmbeddingError('503 from the provider', true);
    if (texts.some((t) => t.includes('POISON'))) throw new EmbeddingError('400 input refused', false);
    this.embedded += texts.length;
    return this.inner.embed(texts);
  }
}

const meta = { documentType: 'guide', tags: ['a'], accessTier: 'free' };
const long = (topic: string) =>
  `# ${topic}\n\n` + Array.from({ length: 60 }, (_, i) => `${topic} sentence ${i} about protein.`).join(' ');

async function dump(svc: TestService) {
  const chunks = await svc.db.client.query(
    `SELECT document_id, version, chunk_index, coach_id, title, content, start_char, end_char, section, page,
            access_tier, document_type, tags, metadata, embedded_sha256, valid_from, valid_from_at, valid_to,
            valid_to_at, is_current, embedding::text AS embedding
     FROM chunks ORDER BY document_id, version, chunk_index`,
  );
  const cache = await svc.db.client.query(
    'SELECT space, text_sha256, embedding::text AS e FROM embedding_cache ORDER BY text_sha256',
  );
  return { chunks: chunks.rows, cache: cache.rows };
}

/** Rows where the trigger-kept BM25 statistics differ from a count over the current chunks (none expected). */
async function statsDrift(svc: TestService) {
  const lexemes = await svc.db.client.query(
    `WITH expected AS (
       SELECT space, chunker, coach_id, access_tier, lexeme, count(*)::int AS df
       FROM chunks, unnest(tsvector_to_array(tsv)) AS lexeme WHERE is_current
       GROUP BY space, chunker, coach_id, access_tier, lexeme)
     SELECT * FROM expected e FULL JOIN chunk_lexemes l USING (space, chunker, coach_id, access_tier, lexeme)
     WHERE e.df IS DISTINCT FROM l.df`,
  );
  const totals = await svc.db.client.query(
    `WITH expected AS (
       SELECT space, chunker, coach_id, access_tier, count(*)::int AS chunks, sum(length(tsv))::bigint AS len
       FROM chunks WHERE is_current GROUP BY space, chunker, coach_id, access_tier)
     SELECT * FROM expected e FULL JOIN chunk_stats s USING (space, chunker, coach_id, access_tier)
     WHERE coalesce(e.chunks, 0) <> s.chunks OR coalesce(e.len, 0) <> s.total_length OR s.chunks IS NULL`,
  );
  return [...lexemes.rows, ...totals.rows];
}

async function allEvents(svc: TestService): Promise<RecordedEvent[]> {
  const store = new PostgresEventStore(svc.db.client, serviceEventRegistry());
  const events: RecordedEvent[] = [];
  for (
    let after: string | undefined, page;
    (page = await store.readAll({ after, limit: 100 })).events.length > 0;
  ) {
    events.push(...page.events);
    after = page.last;
  }
  return events;
}

describe.each(targets())('the chunks projection on %s', (kind) => {
  let svc: TestService;
  beforeEach(async () => (svc = await startService(kind, { PROJECTOR_ENABLED: 'false' })));
  afterEach(() => svc?.close());

  const upload = async (title: string, content: string) =>
    (
      await svc.request('POST', '/documents', {
        json: { coachId: 'c', title, content, format: 'markdown', metadata: meta },
      })
    ).body.documentId as string;

  it('gives the same rows when every event is delivered twice, and a rebuild embeds nothing again', async () => {
    const [a, b, c] = [
      await upload('A', long('Alpha')),
      await upload('B', long('Beta')),
      await upload('C', long('Gamma')),
    ];
    await svc.request('PATCH', `/documents/${a}`, {
      json: { content: long('Alpha') + '\n\nA new closing line.' },
    });
    await svc.request('PATCH', `/documents/${a}`, { json: { metadata: { tags: ['b'] } } });
    await svc.request('POST', `/documents/${a}/rollback`, { json: { toVersion: 1 } });
    await svc.request('DELETE', `/documents/${b}`);
    await svc.request('POST', `/documents/${c}/erase`, { json: { reason: 'asked to' } });
    const events = await allEvents(svc);

    const embedder = new ProbeEmbedder();
    const projection = chunksProjection({
      embedder,
      chunker: DEFAULT_CHUNKER_CONFIG,
      index: DEFAULT_VECTOR_INDEX,
    });
    await projection.setup!(svc.db.client);
    const once = async () => {
      const prepared = await projection.prepare!(svc.db.client, events);
      await svc.db.client.transaction((tx) => projection.apply(tx, events, prepared));
    };
    await once();
    const first = await dump(svc);
    expect(first.chunks.length).toBeGreaterThan(4);
    expect(first.chunks.filter((r) => r.document_id === c)).toEqual([]);
    expect(first.chunks.filter((r) => r.document_id === b && r.is_current)).toEqual([]);
    expect(await statsDrift(svc)).toEqual([]);
    const embeddedFirst = embedder.embedded;
    expect(embeddedFirst).toBeGreaterThan(0);

    // Every event again, one by one, each twice.
    for (const event of events) {
      const prepared = await projection.prepare!(svc.db.client, [event]);
      await svc.db.client.transaction(async (tx) => {
        await projection.apply(tx, [event], prepared);
        await projection.apply(tx, [event], prepared);
      });
    }
    expect(await dump(svc)).toEqual(first);

    // A rebuild: truncate and replay. The cache answers every text; the rows come back the same.
    await svc.db.client.transaction((tx) => projection.truncate(tx));
    expect((await dump(svc)).chunks).toEqual([]);
    await once();
    expect(await dump(svc)).toEqual(first);
    expect(await statsDrift(svc)).toEqual([]);
    expect(embedder.embedded).toBe(embeddedFirst);
  });

  it('sets aside an event the provider refuses (dead letter) and applies the others', async () => {
    const good = await upload('Good', 'Plain protein text.');
    const bad = await upload('Bad', 'This one carries POISON for the provider.');
    const events = await allEvents(svc);
    const embedder = new ProbeEmbedder();
    const projection = chunksProjection({
      embedder,
      chunker: DEFAULT_CHUNKER_CONFIG,
      index: DEFAULT_VECTOR_INDEX,
    });
    const prepared = await projection.prepare!(svc.db.client, events);
    await svc.db.client.transaction((tx) => projection.apply(tx, events, prepared));
    const docs = await svc.db.client.query<{ document_id: string }>(
      'SELECT DISTINCT document_id::text FROM chunks',
    );
    expect(docs.rows.map((r) => r.document_id)).toEqual([good]);
    const letters = await svc.db.client.query(
      'SELECT projection, stream_id, error_code, error FROM projection_dead_letters',
    );
    expect(letters.rows).toEqual([
      {
        projection: 'chunks',
        stream_id: `document-${bad}`,
        error_code: 'EMBEDDING_REFUSED',
        error: '400 input refused',
      },
    ]);
  });

  it('loads a bulk batch without the vector index, then builds it and analyzes the chunks', async () => {
    for (const part of [0, 1, 2, 3]) {
      const text = Array.from({ length: 3_000 }, (_, i) => `Bulk ${part} sentence ${i} about protein.`).join(
        ' ',
      );
      expect(await upload(`Bulk ${part}`, `# Bulk\n\n${text}`)).toEqual(expect.any(String));
    }
    const events = await allEvents(svc);
    const projection = chunksProjection({
      embedder: new ProbeEmbedder(),
      chunker: DEFAULT_CHUNKER_CONFIG,
      index: DEFAULT_VECTOR_INDEX,
    });
    await projection.setup!(svc.db.client);
    const vectorIndexCount = async () =>
      (
        await svc.db.client.query(
          `SELECT 1 FROM pg_indexes WHERE tablename = 'chunks' AND indexname LIKE 'chunks_vec_%'`,
        )
      ).rows.length;
    const built = await vectorIndexCount();
    expect(built).toBeGreaterThan(0);
    const prepared = await projection.prepare!(svc.db.client, events);
    await svc.db.client.transaction((tx) => projection.apply(tx, events, prepared));
    const { rows } = await svc.db.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM chunks WHERE coach_id = 'c' AND is_current`,
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(BULK_MIN_CHUNKS);
    expect(await vectorIndexCount()).toBe(0); // loaded without the index
    await projection.idle!(svc.db.client);
    expect(await vectorIndexCount()).toBe(built);
    // The planner counts the coach's chunks from the statistics ANALYZE took (every row, on a table this small).
    expect(await plannedRows(svc.db.client, `SELECT 1 FROM chunks WHERE coach_id = 'c' AND is_current`)).toBe(
      rows[0]!.n,
    );
  });

  it('builds a new vector index when the index parameters change, and drops the old one', async () => {
    const embedder = new ProbeEmbedder();
    const names = async () =>
      (
        await svc.db.client.query<{ name: string; def: string }>(
          `SELECT indexname AS name, indexdef AS def FROM pg_indexes
           WHERE tablename = 'chunks' AND indexname LIKE 'chunks_vec_%' ORDER BY indexname`,
        )
      ).rows;
    const withIndex = (index: VectorIndexConfig) =>
      chunksProjection({ embedder, chunker: DEFAULT_CHUNKER_CONFIG, index });
    const configs: VectorIndexConfig[] = [
      { kind: 'hnsw', m: 8, efConstruction: 32, efSearch: 40 },
      { kind: 'hnsw', m: 12, efConstruction: 32, efSearch: 40 },
      { kind: 'ivfflat', lists: 4, probes: 2 },
    ];
    for (const index of configs) {
      await withIndex(index).setup!(svc.db.client);
      const expected = vectorIndexes(
        index,
        embedder.space,
        chunkerVersion(DEFAULT_CHUNKER_CONFIG),
        embedder.dimensions,
      );
      const found = await names();
      expect(found.map((i) => i.name)).toEqual(expected.map((i) => i.name).sort());
      const built = index.kind === 'hnsw' ? `m='?${index.m}'?, ef_construction='?32'?` : `lists='?4'?`;
      for (const { def } of found) expect(def).toMatch(new RegExp(built));
    }
  });

  it('fails the whole batch while the provider is down, so that no event is skipped', async () => {
    await upload('Doc', 'Some protein text.');
    const events = await allEvents(svc);
    const embedder = new ProbeEmbedder();
    embedder.outage = true;
    const projection = chunksProjection({
      embedder,
      chunker: DEFAULT_CHUNKER_CONFIG,
      index: DEFAULT_VECTOR_INDEX,
    });
    await expect(projection.prepare!(svc.db.client, events)).rejects.toMatchObject({ retryable: true });
    expect((await svc.db.client.query('SELECT 1 FROM projection_dead_letters')).rows).toEqual([]);
  });
});
