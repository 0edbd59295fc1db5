import fc from 'fast-check';
import { documentDecider, type DocumentState } from '../../src/domain/document/document.decider.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { openDocumentEvents } from '../../src/projections/documents/open-document-events.js';
import { targets } from '../support/databases.js';
import { TestClock } from '../support/clock.js';
import { startService, type TestService } from '../support/service.js';

/**
 * The property of issue #5: for random histories of uploads, edits, rollbacks, retirements and erasures over a
 * few documents, and for every moment T between the writes, the as-of read and the as-of search equal what a
 * replay of the stored events up to T gives; and after a restore to T the corpus is as it was at T.
 */
const WORDS = ['apple', 'banana', 'cherry', 'mango', 'olive', 'pepper'] as const;
const DOCS = 3;

type Op =
  | { kind: 'upload' | 'edit'; doc: number; words: string[] }
  | { kind: 'rollback'; doc: number; toVersion: number }
  | { kind: 'retire' | 'erase'; doc: number };

const words = fc.uniqueArray(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 });
const doc = fc.integer({ min: 0, max: DOCS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('upload' as const), doc, words }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('edit' as const), doc, words }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('rollback' as const),
      doc,
      toVersion: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retire' as const), doc }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), doc }) },
);

/** Writes are recorded at this clock's time, one tick apart; the moments between them are exact. */
const clock = new TestClock();
let run = 0;

describe.each(targets())('time travel (property) on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind, { QUERY_CACHE_TTL_SECONDS: '0' }, { clock })));
  afterAll(() => svc?.close());

  /** The document at T by folding its stored events recorded up to T, as the domain folds them. */
  async function replay(documentId: string, at: Date): Promise<DocumentState> {
    const store = new PostgresEventStore(svc.db.client, serviceEventRegistry());
    const events = await store.readStream(`document-${documentId}`, { until: at });
    const opened = await openDocumentEvents(svc.db.client, events);
    return opened.reduce((s, { event }) => documentDecider.evolve(s, event), documentDecider.initialState());
  }

  async function perform(
    coachId: string,
    ids: Array<string | undefined>,
    o: Op,
  ): Promise<string | undefined> {
    const id = ids[o.doc];
    const content = o.kind === 'upload' || o.kind === 'edit' ? `${o.words.join(' ')}.` : '';
    let r;
    if (o.kind === 'upload') {
      if (id) return undefined;
      r = await svc.request('POST', '/documents', {
        json: {
          coachId,
          title: `Doc ${o.doc}`,
          content: `${content} ${coachId} ${o.doc}`, // unique per run: never a duplicate of another run
          format: 'text',
          metadata: { documentType: 'guide', tags: [], accessTier: 'free' },
        },
      });
      if (r.status === 201) ids[o.doc] = r.body.documentId;
    } else if (!id) return undefined;
    else if (o.kind === 'edit')
      r = await svc.request('PATCH', `/documents/${id}`, { json: { content: `${content} ${coachId}` } });
    else if (o.kind === 'rollback')
      r = await svc.request('POST', `/documents/${id}/rollback`, { json: { toVersion: o.toVersion } });
    else if (o.kind === 'retire') r = await svc.request('DELETE', `/documents/${id}`);
    else r = await svc.request('POST', `/documents/${id}/erase`, { json: { reason: 'property test' } });
    // Refusals (editing a retired document, rolling back to a version that does not exist, …) write nothing.
    expect([200, 201, 404, 409, 410, 422]).toContain(r.status);
    return r.status < 300 ? r.body.position : undefined;
  }

  it('as-of reads and as-of search equal a replay of the events; a restore brings back the state at T', async () => {
    const seen = { hits: 0, restores: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 10 }), fc.nat(), async (ops, pick) => {
        const coachId = `prop${run++}`;
        const ids: Array<string | undefined> = Array(DOCS).fill(undefined);
        const moments: Date[] = [];
        let last: string | undefined;
        for (const o of ops) {
          clock.tick();
          last = (await perform(coachId, ids, o)) ?? last;
          moments.push(new Date(clock.tick()));
        }
        const known = ids.filter((x): x is string => Boolean(x));
        if (known.length === 0) return;
        const erasedNow = new Set<string>();
        for (const id of known) if ((await replay(id, clock.now())).status === 'erased') erasedNow.add(id);

        for (const at of moments) {
          const states = new Map(
            await Promise.all(known.map(async (id) => [id, await replay(id, at)] as const)),
          );
          for (const [id, state] of states) {
            const r = await svc.request('GET', `/documents/${id}?asOf=${at.toISOString()}`);
            // Before its first event a document did not exist (404), erased or not; after it, erased is 410.
            if (state.status === 'none') expect(r.status).toBe(404);
            else if (erasedNow.has(id)) expect(r.status).toBe(410);
            else if (state.status !== 'erased')
              expect(r.body).toMatchObject({
                version: state.version,
                status: state.status,
                content: state.current.content,
              });
          }
          for (const word of WORDS) {
            const r = await svc.request('POST', '/search', {
              json: { coachId, query: word, mode: 'text', k: 100, asOf: at.toISOString(), minPosition: last },
            });
            expect(r.status).toBe(200);
            const found = new Set(r.body.results.map((x: { documentId: string }) => x.documentId));
            const expected = [...states]
              .filter(
                ([id, s]) => s.status === 'active' && !erasedNow.has(id) && s.current.content.includes(word),
              )
              .map(([id]) => id);
            expect([...found].sort()).toEqual(expected.sort());
            seen.hits += found.size;
          }
        }

        // Restore to one of the moments; then the corpus is as it was then (erased stays erased).
        const at = moments[pick % moments.length]!;
        const restored = await svc.request('POST', `/coaches/${coachId}/restore`, {
          json: { asOf: at.toISOString() },
        });
        expect(restored.status).toBe(200);
        expect(restored.body.failed).toEqual([]);
        seen.restores += restored.body.changes.length;
        for (const id of known) {
          const then = await replay(id, at);
          const now = await svc.request('GET', `/documents/${id}`);
          if (erasedNow.has(id)) expect(now.status).toBe(410);
          else if (then.status === 'active')
            expect(now.body).toMatchObject({ status: 'active', content: then.current.content });
          else expect(now.body.status).toBe('retired');
        }
        const again = await svc.request('POST', `/coaches/${coachId}/restore`, {
          json: { asOf: at.toISOString(), dryRun: true },
        });
        expect(again.body.changes).toEqual([]);
      }),
      // FC_SEED (and FC_PATH) replay a failure that fast-check reported.
      {
        numRuns: 12,
        endOnFailure: true,
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}),
      },
    );
    // The histories were not all refused writes: searches found passages and restores changed documents.
    expect(seen.hits).toBeGreaterThan(10);
    expect(seen.restores).toBeGreaterThan(0);
  });
});
