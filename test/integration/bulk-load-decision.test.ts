import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import type { RecordedEvent } from '../../src/infrastructure/event-store/event-store.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { DEFAULT_CHUNKER_CONFIG } from '../../src/projections/chunks/chunker.js';
import { chunksProjection } from '../../src/projections/chunks/chunks.projection.js';
import { pendingChunks } from '../../src/projections/chunks/pending-work.js';
import { BULK_MIN_CHUNKS } from '../../src/projections/chunks/vector-index-lifecycle.js';
import { DEFAULT_VECTOR_INDEX } from '../../src/projections/chunks/vector-index.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const meta = { documentType: 'guide', tags: [], accessTier: 'free' };

/**
 * Whether the chunks projection loads without its vector index is decided on the work still to come (the pending
 * events), not on the batch in hand: each step is driven by hand here, one event per batch, as a projector that
 * keeps up with uploads would read them.
 */
describe.each(targets())('the vector index and the pending work (%s)', (kind) => {
  let svc: TestService;
  let events: RecordedEvent[];
  beforeAll(async () => {
    svc = await startService(kind, { PROJECTOR_ENABLED: 'false' });
    for (const part of [0, 1, 2, 3]) {
      const text = Array.from({ length: 3_000 }, (_, i) => `Bulk ${part} sentence ${i} about protein.`);
      await svc.request('POST', '/documents', {
        json: { coachId: 'c', title: `Bulk ${part}`, content: `# Bulk\n\n${text.join(' ')}`, metadata: meta },
      });
    }
    const page = await new PostgresEventStore(svc.db.client, serviceEventRegistry()).readAll({ limit: 100 });
    events = page.events;
  }, 180_000);
  afterAll(() => svc?.close());

  const projection = chunksProjection({
    embedder: new LocalEmbedder(),
    chunker: DEFAULT_CHUNKER_CONFIG,
    index: DEFAULT_VECTOR_INDEX,
  });
  const vectorIndexes = async () =>
    (
      await svc.db.client.query(
        `SELECT 1 FROM pg_indexes WHERE tablename = 'chunks' AND indexname LIKE 'chunks_vec_%'`,
      )
    ).rows.length;
  const step = async (batch: RecordedEvent[]) => {
    const prepared = await projection.prepare!(svc.db.client, batch);
    await svc.db.client.transaction((tx) => projection.apply(tx, batch, prepared));
  };
  const chunksOf = async (batch: RecordedEvent[]) => {
    const before = await currentChunks();
    await step(batch);
    return (await currentChunks()) - before;
  };
  const currentChunks = async () =>
    (await svc.db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE is_current'))
      .rows[0]!.n;

  it('drops the index at the first small batch of a bulk load, on an estimate within a factor of two', async () => {
    const estimate = await pendingChunks(svc.db.client, events[0]!.position, DEFAULT_CHUNKER_CONFIG);
    await projection.setup!(svc.db.client);
    const batches = events.map((e) => [e]);
    let written = 0;
    // The first batch alone is below a bulk load; the four together are one, and the index goes at once.
    written += await chunksOf(batches[0]!);
    expect(written).toBeLessThan(BULK_MIN_CHUNKS);
    expect(await vectorIndexes()).toBe(0);
    for (const batch of batches.slice(1)) written += await chunksOf(batch);
    expect(written).toBeGreaterThanOrEqual(BULK_MIN_CHUNKS);
    expect(estimate).toBeGreaterThan(written / 2);
    expect(estimate).toBeLessThan(written * 2);
    await projection.idle!(svc.db.client);
    expect(await vectorIndexes()).toBe(2);
  });

  it('keeps the index when what is still to come is small', async () => {
    // The last event again (a redelivery): one document's chunks are pending, under a bulk load.
    await step(events.slice(-1));
    expect(await vectorIndexes()).toBe(2);
  });
  it('keeps the index through a rebuild and a bulk load whose build would be too long to block on', async () => {
    const keeping = chunksProjection({
      embedder: new LocalEmbedder(),
      chunker: DEFAULT_CHUNKER_CONFIG,
      index: DEFAULT_VECTOR_INDEX,
      maxBlockingBuildChunks: BULK_MIN_CHUNKS, // under what the test loads
    });
    await keeping.setup!(svc.db.client);
    await svc.db.client.transaction((tx) => keeping.truncate!(tx));
    expect(await currentChunks()).toBe(0);
    expect(await vectorIndexes()).toBe(2);
    for (const event of events) {
      const prepared = await keeping.prepare!(svc.db.client, [event]);
      await svc.db.client.transaction((tx) => keeping.apply(tx, [event], prepared));
      expect(await vectorIndexes()).toBe(2);
    }
    expect(await currentChunks()).toBeGreaterThanOrEqual(BULK_MIN_CHUNKS);
  });

  describe('below the corpus size where a vector search uses its index (indexMinChunks)', () => {
    const lazy = (indexMinChunks: number, maxBlockingBuildChunks?: number) =>
      chunksProjection({
        embedder: new LocalEmbedder(),
        chunker: DEFAULT_CHUNKER_CONFIG,
        index: DEFAULT_VECTOR_INDEX,
        indexMinChunks,
        ...(maxBlockingBuildChunks === undefined ? {} : { maxBlockingBuildChunks }),
      });
    const load = async (projection: ReturnType<typeof lazy>, indexesAfterEach: number[]) => {
      for (const event of events) {
        const prepared = await projection.prepare!(svc.db.client, [event]);
        await svc.db.client.transaction((tx) => projection.apply(tx, [event], prepared));
        indexesAfterEach.push(await vectorIndexes());
      }
    };

    it('loads and stays without one while the corpus is below indexMinChunks', async () => {
      const small = lazy(100_000);
      await small.setup!(svc.db.client);
      await svc.db.client.transaction((tx) => small.truncate!(tx));
      const seen: number[] = [];
      await load(small, seen);
      await small.idle!(svc.db.client);
      expect(await currentChunks()).toBeGreaterThanOrEqual(BULK_MIN_CHUNKS);
      expect([...seen, await vectorIndexes()]).toEqual([0, 0, 0, 0, 0]);
    });

    it('builds it once caught up when a bulk load takes the corpus to indexMinChunks', async () => {
      const bulk = lazy(BULK_MIN_CHUNKS - 1);
      await bulk.setup!(svc.db.client); // the corpus is over: built, then dropped for the load
      expect(await vectorIndexes()).toBe(2);
      await svc.db.client.transaction((tx) => bulk.truncate!(tx));
      const seen: number[] = [];
      await load(bulk, seen);
      expect(seen).toEqual([0, 0, 0, 0]);
      await bulk.idle!(svc.db.client);
      expect(await vectorIndexes()).toBe(2);
    });

    it('builds it before the batch that starts a load too large to build after (the embedded bound)', async () => {
      await svc.db.client.transaction((tx) => lazy(100_000).truncate!(tx)); // no index, no chunk
      await lazy(100_000).idle!(svc.db.client);
      const bounded = lazy(10, BULK_MIN_CHUNKS);
      await bounded.setup!(svc.db.client);
      expect(await vectorIndexes()).toBe(0);
      const seen: number[] = [];
      await load(bounded, seen);
      expect(seen).toEqual([2, 2, 2, 2]);
    });
  });
});
