import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { checkpoints } from '../../src/infrastructure/projections/checkpoints.js';
import type { AsyncProjection } from '../../src/infrastructure/projections/projection.js';
import { Projector, type ProjectorEvent } from '../../src/infrastructure/projections/projector.js';
import type { PreparedBatch } from '../../src/projections/chunks/chunk-preparation.js';
import { chunksProjection } from '../../src/projections/chunks/chunks.projection.js';
import { DEFAULT_VECTOR_INDEX } from '../../src/projections/chunks/vector-index.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const meta = { documentType: 'guide', tags: [], accessTier: 'free' };
const chunker = { targetTokens: 24, overlapTokens: 0, maxTokens: 48 };
const BUDGET = 5;

const incomingChunks = (batch: PreparedBatch) =>
  [...batch.byEvent.values()].reduce((n, p) => n + (p.kind === 'version' ? p.chunks.length : 0), 0);

/**
 * The projector applies a batch in steps of at most the budget's chunks, each its own transaction, and moves the
 * checkpoint only with the last: a large document never makes one long transaction.
 */
describe.each(targets())('projector steps on %s', (kind) => {
  let svc: TestService;
  beforeEach(
    async () => (svc = await startService(kind, { PROJECTOR_ENABLED: 'false', LOG_LEVEL: 'error' })),
  );
  afterEach(() => svc?.close());

  const upload = async (title: string, sentences: number) => {
    const reply = await svc.request('POST', '/documents', {
      json: {
        ...{ coachId: 'c', title, format: 'markdown', metadata: meta },
        content: Array.from({ length: sentences }, (_, i) => `${title} sentence ${i} about protein.`).join(
          ' ',
        ),
      },
    });
    expect([reply.status, reply.body]).toEqual([201, expect.anything()]);
    return (reply.body as { position: string }).position;
  };

  it('projects a document bigger than the budget in several steps, each within it', async () => {
    await upload('Small', 3);
    await upload('Large', 120);
    // The last write's position, not the log's head: the head names the last settled event, and the last upload
    // may settle only after it is read.
    const last = await upload('Other', 10);
    const inner = chunksProjection({ embedder: new LocalEmbedder(), chunker, index: DEFAULT_VECTOR_INDEX });
    const steps: Array<{ chunks: number; checkpoint: string | null }> = [];
    const spy: AsyncProjection = Object.assign(Object.create(inner) as AsyncProjection, {
      async apply(this: AsyncProjection, tx, events, prepared) {
        const checkpoint = (await checkpoints.read(tx, inner))?.position ?? null;
        steps.push({ chunks: incomingChunks(prepared as PreparedBatch), checkpoint });
        await inner.apply.call(this, tx, events, prepared);
      },
    } satisfies Partial<AsyncProjection>);
    let projector: Projector | undefined;
    const idle = new Promise<void>((resolve, reject) => {
      const onEvent = (e: ProjectorEvent) => {
        if (e.kind === 'error') reject(e.error);
        if (e.kind === 'idle' && e.position === last) resolve();
      };
      const store = new PostgresEventStore(svc.db.client, serviceEventRegistry());
      const options = { batchSize: 100, pollMs: 30, standbyRetryMs: 30, stepBudget: BUDGET, onEvent };
      projector = new Projector(svc.db.client, store, spy, options);
      projector.start();
    });
    try {
      await idle;
    } finally {
      await projector?.stop();
    }
    const { rows } = await svc.db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks');
    expect(rows[0]!.n).toBeGreaterThan(3 * BUDGET);
    // Every chunk was written once, by a step of at most BUDGET chunks, all before the checkpoint moved.
    expect(steps.reduce((n, s) => n + s.chunks, 0)).toBe(rows[0]!.n);
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(rows[0]!.n / BUDGET));
    expect(steps.filter((s) => s.chunks > BUDGET)).toEqual([]);
    expect(new Set(steps.map((s) => s.checkpoint))).toEqual(new Set([null]));
    const search = await svc.db.client.query<{ n: number }>(
      `SELECT count(DISTINCT chunk_index)::int AS n FROM chunks WHERE title = 'Large' AND is_current`,
    );
    expect(search.rows[0]!.n).toBeGreaterThan(BUDGET);
  });
});
