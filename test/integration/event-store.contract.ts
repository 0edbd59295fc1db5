import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  EventSchemaError,
  IdempotencyKeyReusedError,
  VersionConflictError,
} from '../../src/infrastructure/event-store/errors.js';
import { EventRegistry } from '../../src/infrastructure/event-store/event-registry.js';
import type { EventStore } from '../../src/infrastructure/event-store/event-store.js';
import { comparePositions, parsePosition } from '../../src/infrastructure/event-store/position.js';
import { testRegistry } from '../support/test-events.js';

export interface ContractHarness {
  /** A store over the same underlying database, seeing events through `registry`. */
  store(registry?: EventRegistry): EventStore;
  cleanup(): Promise<void>;
}

const stream = () => `test-${randomUUID()}`;
const inc = (by: number) => ({ type: 'CounterIncremented', data: { by } });

/**
 * The event store contract: every adapter (PostgreSQL, PGlite, EventStoreDB) must pass it unchanged.
 * `setup` gives a harness on an empty database.
 */
export function eventStoreContract(label: string, setup: () => Promise<ContractHarness>): void {
  describe(`event store contract: ${label}`, () => {
    let harness: ContractHarness;
    let store: EventStore;
    beforeAll(async () => {
      harness = await setup();
      store = harness.store();
    });
    afterAll(() => harness?.cleanup());

    it('round-trips appended events with their metadata', async () => {
      const id = stream();
      const result = await store.append(
        id,
        [inc(1), inc(2), { type: 'NoteAdded', data: { text: 'héllo ✓' } }],
        {
          expectedVersion: 'no_stream',
          actor: 'alice',
          correlationId: 'corr-1',
          causationId: 'cause-1',
          occurredAt: new Date('2026-01-02T03:04:05.000Z'),
        },
      );
      expect(result.version).toBe(3);
      const events = await store.readStream(id);
      expect(events.map((e) => [e.streamPosition, e.type, e.data])).toEqual([
        [1, 'CounterIncremented', { by: 1 }],
        [2, 'CounterIncremented', { by: 2 }],
        [3, 'NoteAdded', { text: 'héllo ✓' }],
      ]);
      expect(events[2]!.position).toBe(result.position);
      expect(events[0]!.metadata).toEqual({
        actor: 'alice',
        correlationId: 'corr-1',
        causationId: 'cause-1',
        idempotencyKey: null,
        occurredAt: '2026-01-02T03:04:05.000Z',
        schemaVersion: 1,
      });
      expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
    });

    it('checks the expected version', async () => {
      const id = stream();
      await store.append(id, [inc(1)], { expectedVersion: 'no_stream' });
      await expect(store.append(id, [inc(1)], { expectedVersion: 'no_stream' })).rejects.toMatchObject({
        code: 'VERSION_CONFLICT',
        actual: 1,
      });
      await expect(store.append(id, [inc(1)], { expectedVersion: 0 })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      await expect(store.append(id, [inc(1)], { expectedVersion: 2 })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      expect((await store.append(id, [inc(1)], { expectedVersion: 1 })).version).toBe(2);
      expect((await store.append(id, [inc(1), inc(1)], { expectedVersion: 'any' })).version).toBe(4);
      const fresh = stream();
      await expect(store.append(fresh, [inc(1)], { expectedVersion: 3 })).rejects.toMatchObject({
        actual: 0,
      });
      // A refused append wrote nothing, on a new stream as on an existing one.
      expect(await store.readStream(fresh)).toHaveLength(0);
      await expect(store.append(fresh, [inc(1)], { expectedVersion: 1 })).rejects.toMatchObject({
        actual: 0,
      });
      expect(await store.readStream(id)).toHaveLength(4);
    });

    it('lets exactly one of 20 concurrent appends at the same expected version succeed', async () => {
      const id = stream();
      await store.append(id, [inc(0)], { expectedVersion: 'no_stream' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.append(id, [inc(i), inc(i)], { expectedVersion: 1 })),
      );
      const ok = outcomes.filter((o) => o.status === 'fulfilled');
      const conflicts = outcomes.filter(
        (o) => o.status === 'rejected' && o.reason instanceof VersionConflictError,
      );
      expect(ok).toHaveLength(1);
      expect(conflicts).toHaveLength(19);
      const events = await store.readStream(id);
      expect(events.map((e) => e.streamPosition)).toEqual([1, 2, 3]);
      expect(events[1]!.data).toEqual(events[2]!.data);
    });

    it('returns the first result for a retried idempotency key and appends nothing', async () => {
      const id = stream();
      const key = randomUUID();
      const first = await store.append(id, [inc(1)], { expectedVersion: 'no_stream', idempotencyKey: key });
      const retry = await store.append(id, [inc(99)], { expectedVersion: 'no_stream', idempotencyKey: key });
      expect(retry).toEqual(first);
      const concurrentKey = randomUUID();
      const racing = await Promise.all(
        Array.from({ length: 5 }, () =>
          store.append(id, [inc(5)], { expectedVersion: 'any', idempotencyKey: concurrentKey }),
        ),
      );
      expect(new Set(racing.map((r) => JSON.stringify(r))).size).toBe(1);
      const events = await store.readStream(id);
      expect(events.map((e) => e.data)).toEqual([{ by: 1 }, { by: 5 }]);
      expect(events[1]!.metadata.idempotencyKey).toBe(concurrentKey);
      await expect(
        store.append(stream(), [inc(1)], { expectedVersion: 'any', idempotencyKey: key }),
      ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    });

    it('reads all streams in one global order, page by page, each event once', async () => {
      const start = await store.head();
      const a = stream();
      const b = stream();
      await store.append(a, [inc(1)], { expectedVersion: 'no_stream' });
      await store.append(b, [inc(2), inc(3)], { expectedVersion: 'no_stream' });
      await store.append(a, [inc(4)], { expectedVersion: 1 });
      await store.append(b, [inc(5)], { expectedVersion: 2 });
      const seen: number[] = [];
      const positions: string[] = [];
      let after = start;
      for (;;) {
        const page = await store.readAll({ after, limit: 2 });
        if (page.events.length === 0) {
          expect(page.last).toBe(after);
          break;
        }
        for (const e of page.events) {
          seen.push((e.data as { by: number }).by);
          positions.push(e.position);
        }
        after = page.last;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      for (let i = 1; i < positions.length; i++) {
        expect(comparePositions(parsePosition(positions[i - 1]!), parsePosition(positions[i]!))).toBe(-1);
      }
      expect(await store.head()).toBe(positions[positions.length - 1]);
    });

    it('ends a page of all streams at a size in bytes, at least one event, and the next page goes on from it', async () => {
      const start = await store.head();
      const id = stream();
      // Random text, so that PostgreSQL's compression cannot make the stored payloads small.
      const note = (tag: string) => ({
        type: 'NoteAdded',
        data: { text: `${tag} ${randomBytes(30_000).toString('base64')}` },
      });
      await store.append(id, ['one', 'two', 'three', 'four'].map(note), { expectedVersion: 'no_stream' });
      const pages: string[][] = [];
      let after = start;
      for (;;) {
        // Every committed event (nothing else appends here): on a shared server another database's open
        // transaction may hold the settled horizon back, and this test is about the size, not the horizon.
        const page = await store.readAll({ after, limit: 100, maxBytes: 90_000, appendsBlocked: true });
        if (page.events.length === 0) break;
        pages.push(page.events.map((e) => (e.data as { text: string }).text.split(' ')[0]!));
        after = page.last;
      }
      // Each note is about 40 KB: two fit in 90 KB, a third does not; nothing is skipped or read twice.
      expect(pages).toEqual([
        ['one', 'two'],
        ['three', 'four'],
      ]);
      const single = await store.readAll({ after: start, limit: 100, maxBytes: 1, appendsBlocked: true });
      expect(single.events).toHaveLength(1);
    });

    it('reads a stream up to a moment and within a version window', async () => {
      const id = stream();
      await store.append(id, [inc(1)], { expectedVersion: 'no_stream' });
      const [first] = await store.readStream(id);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.append(id, [inc(2), inc(3)], { expectedVersion: 1 });
      expect((await store.readStream(id, { until: first!.recordedAt })).map((e) => e.data)).toEqual([
        { by: 1 },
      ]);
      expect(await store.readStream(id, { until: new Date(first!.recordedAt.getTime() - 1) })).toEqual([]);
      expect((await store.readStream(id, { fromVersion: 2 })).map((e) => e.streamPosition)).toEqual([2, 3]);
      expect((await store.readStream(id, { toVersion: 2 })).map((e) => e.streamPosition)).toEqual([1, 2]);
      expect(await store.readStream(stream())).toEqual([]);
    });

    it('reads a stream of ten or more events in stream order (numeric, not as text)', async () => {
      const id = stream();
      for (let v = 0; v < 11; v++)
        await store.append(id, [inc(v + 1)], { expectedVersion: v || 'no_stream' });
      const positions = (await store.readStream(id)).map((e) => e.streamPosition);
      expect(positions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('upcasts events stored by an older schema version', async () => {
      const oldBuild = new EventRegistry().register({
        type: 'PersonRenamed',
        schemaVersion: 1,
        schema: z.object({ name: z.string() }),
      });
      const id = stream();
      await harness
        .store(oldBuild)
        .append(id, [{ type: 'PersonRenamed', data: { name: 'Ada King Lovelace' } }], {
          expectedVersion: 'no_stream',
        });
      const [event] = await harness.store(testRegistry()).readStream(id);
      expect(event!.data).toEqual({ firstName: 'Ada', lastName: 'King Lovelace' });
      expect(event!.metadata.schemaVersion).toBe(1);
    });

    it('refuses events that do not match their schema and appends nothing', async () => {
      const id = stream();
      await expect(
        store.append(id, [inc(1), { type: 'CounterIncremented', data: { by: 'x' } }], {
          expectedVersion: 'any',
        }),
      ).rejects.toBeInstanceOf(EventSchemaError);
      await expect(
        store.append(id, [{ type: 'NoSuchType', data: {} }], { expectedVersion: 'any' }),
      ).rejects.toBeInstanceOf(EventSchemaError);
      expect(await store.readStream(id)).toEqual([]);
    });

    it('counts the events after a position, up to a cap', async () => {
      const before = await store.head();
      const id = stream();
      await store.append(id, [inc(1), inc(2)], { expectedVersion: 'no_stream' });
      const { position } = await store.append(id, [inc(3)], { expectedVersion: 2 });
      expect(await store.countAfter(before, 100)).toBe(3);
      expect(await store.countAfter(before, 2)).toBe(2);
      expect(await store.countAfter(position, 100)).toBe(0);
      expect(await store.countAfter(undefined, 100)).toBeGreaterThanOrEqual(3);
    });

    it('appends a batch to several streams, with admission and hooks, each outcome in order', async () => {
      const [a, b, c] = [stream(), stream(), stream()];
      const hooked: number[][] = [];
      const outcomes = await store.appendMany<string>(
        [a, b, c].map((streamId) => ({
          streamId,
          events: [inc(1)],
          options: { expectedVersion: 'no_stream' },
        })),
        {
          admit: async () => [undefined, 'not b', undefined],
          alsoWrite: async (_tx, admitted) => void hooked.push([...admitted]),
        },
      );
      expect(outcomes[1]).toEqual({ refused: 'not b' });
      expect(hooked).toEqual([[0, 2]]);
      expect((await store.readStreams([a, b, c])).size).toBe(2);
      expect(await store.readStream(b)).toEqual([]);
    });
  });
}
