import { once } from 'node:events';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { startStandIn, type StandIn, type StandInOptions } from '../support/esdb-stand-in/index.js';

/**
 * The stand-in driven by the real @eventstore/db-client, in the three ways a server can meet the client's
 * append: BatchAppend offered (current servers), Append only, and no ServerFeatures service at all (older
 * servers). Nothing here has been run against a live EventStoreDB.
 */
const modes: Array<{ name: string; options: StandInOptions; appendsThrough: 'batchAppend' | 'append' }> = [
  { name: 'BatchAppend offered', options: { batchAppend: true }, appendsThrough: 'batchAppend' },
  { name: 'Append only', options: { batchAppend: false }, appendsThrough: 'append' },
  { name: 'ServerFeatures UNIMPLEMENTED', options: { serverFeatures: false }, appendsThrough: 'append' },
];

const created = (n: number) => jsonEvent({ type: 'DocCreated', data: { n }, metadata: { by: 'test' } });

async function collect(events: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
  const out: ResolvedEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** The next `count` events of a subscription: waits for them however long they take (Jest's timeout bounds it). */
async function take(events: AsyncIterator<ResolvedEvent>, count: number): Promise<ResolvedEvent[]> {
  const out: ResolvedEvent[] = [];
  while (out.length < count) {
    const next = await events.next();
    if (next.done) throw new Error(`subscription ended after ${out.length} of ${count} events`);
    out.push(next.value);
  }
  return out;
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

const isUserEvent = (event: ResolvedEvent) => !event.event!.type.startsWith('$');

describe.each(modes)('EventStoreDB stand-in, $name', ({ options, appendsThrough }) => {
  let standIn: StandIn;
  let client: EventStoreDBClient;

  beforeEach(async () => {
    standIn = await startStandIn(options);
    client = EventStoreDBClient.connectionString(standIn.connectionString);
  });

  afterEach(async () => {
    // The client first: it cancels its own subscriptions and BatchAppend stream instead of seeing them cut.
    await client.dispose();
    standIn.stop();
  });

  it(`appends with NO_STREAM through ${appendsThrough}, and the same ids again return the first result`, async () => {
    const events = [created(1), created(2), created(3)];
    const first = await client.appendToStream('doc-1', events, { expectedRevision: NO_STREAM });
    expect(first.nextExpectedRevision).toBe(2n);
    expect(typeof first.position?.commit).toBe('bigint');

    const again = await client.appendToStream('doc-1', events, { expectedRevision: NO_STREAM });
    expect(again.nextExpectedRevision).toBe(2n);
    expect(again.position).toEqual(first.position);
    expect(standIn.store.stream('doc-1')).toHaveLength(3);
    expect(standIn.calls[appendsThrough]).toBeGreaterThan(0);
    expect(standIn.calls[appendsThrough === 'append' ? 'batchAppend' : 'append']).toBe(0);
  });

  it('refuses a wrong expected revision with the actual and the expected revision', async () => {
    await client.appendToStream('doc-1', [created(1), created(2), created(3)], {
      expectedRevision: NO_STREAM,
    });

    const exact = await rejection(client.appendToStream('doc-1', created(4), { expectedRevision: 7n }));
    expect(exact).toBeInstanceOf(WrongExpectedVersionError);
    expect(exact).toMatchObject({ streamName: 'doc-1', expectedVersion: 7n, actualVersion: 2n });

    const noStream = await rejection(
      client.appendToStream('doc-1', created(4), { expectedRevision: NO_STREAM }),
    );
    expect(noStream).toBeInstanceOf(WrongExpectedVersionError);
    expect(noStream).toMatchObject({ expectedVersion: 'no_stream', actualVersion: 2n });
    expect(standIn.store.stream('doc-1')).toHaveLength(3);
  });

  it('refuses STREAM_EXISTS on a missing stream, reporting it as no_stream', async () => {
    const refused = await rejection(
      client.appendToStream('missing', created(1), { expectedRevision: STREAM_EXISTS }),
    );
    expect(refused).toBeInstanceOf(WrongExpectedVersionError);
    expect(refused).toMatchObject({ expectedVersion: 'stream_exists', actualVersion: 'no_stream' });
    expect(standIn.store.stream('missing')).toBeUndefined();
  });

  it('reads a stream forwards, backwards, from a revision and with a count', async () => {
    const events = [created(1), created(2), created(3), created(4)];
    await client.appendToStream('doc-1', events, { expectedRevision: NO_STREAM });

    const forwards = await collect(client.readStream('doc-1'));
    expect(forwards.map((e) => e.event?.revision)).toEqual([0n, 1n, 2n, 3n]);
    expect(forwards[0]!.event).toMatchObject({
      streamId: 'doc-1',
      id: events[0]!.id,
      type: 'DocCreated',
      data: { n: 1 },
      metadata: { by: 'test' },
    });
    const fromOne = await collect(client.readStream('doc-1', { fromRevision: 1n, maxCount: 2 }));
    expect(fromOne.map((e) => e.event?.revision)).toEqual([1n, 2n]);
    const backwards = await collect(client.readStream('doc-1', { direction: BACKWARDS, fromRevision: END }));
    expect(backwards.map((e) => e.event?.revision)).toEqual([3n, 2n, 1n, 0n]);
    const backFromTwo = await collect(
      client.readStream('doc-1', { direction: BACKWARDS, fromRevision: 2n, maxCount: 2 }),
    );
    expect(backFromTwo.map((e) => e.event?.revision)).toEqual([2n, 1n]);
  });

  it('reports a read of a missing stream as StreamNotFoundError', async () => {
    const error = await rejection(collect(client.readStream('missing')));
    expect(error).toBeInstanceOf(StreamNotFoundError);
    expect(error).toMatchObject({ streamName: 'missing' });
  });

  it('reads $all forwards from a position, among system events, and backwards', async () => {
    await client.appendToStream('doc-1', [created(1), created(2), created(3)], {
      expectedRevision: NO_STREAM,
    });
    await client.appendToStream('other-1', jsonEvent({ type: 'Other', data: {} }), {
      expectedRevision: NO_STREAM,
    });

    // The client's readAll has no filter option: system events come along and are dropped here.
    const all = await collect(client.readAll());
    expect(all.some((e) => e.event!.type.startsWith('$'))).toBe(true);
    const user = all.filter(isUserEvent);
    expect(user.map((e) => e.event!.streamId)).toEqual(['doc-1', 'doc-1', 'doc-1', 'other-1']);
    const commits = user.map((e) => e.event!.position!.commit);
    expect([...commits].sort((a, b) => (a < b ? -1 : 1))).toEqual(commits);

    const fromThird = await collect(
      client.readAll({ fromPosition: user[2]!.event!.position!, maxCount: 10 }),
    );
    expect(fromThird.filter(isUserEvent).map((e) => e.event!.data)).toEqual([{ n: 3 }, {}]);

    const lastTwo = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 2 }));
    expect(lastTwo.map((e) => e.event!.type)).toEqual(['Other', 'DocCreated']);
    // Backwards from a position returns what lies before it.
    const before = await collect(
      client.readAll({ direction: BACKWARDS, fromPosition: user[1]!.event!.position! }),
    );
    expect(before.filter(isUserEvent).map((e) => e.event!.data)).toEqual([{ n: 1 }]);
  });

  it('subscribeToAll with excludeSystemEvents delivers the stored events, then the new ones', async () => {
    await client.appendToStream('doc-1', [created(1), created(2)], { expectedRevision: NO_STREAM });

    const subscription = client.subscribeToAll({ fromPosition: START, filter: excludeSystemEvents() });
    const caughtUp = once(subscription, 'caughtUp');
    const events = subscription[Symbol.asyncIterator]();
    // The seeded $settings event comes first in $all: were it not filtered, it would be the first one here.
    const past = await take(events, 2);
    await caughtUp;
    await client.appendToStream('doc-1', [created(3), created(4)], { expectedRevision: 1n });
    const live = await take(events, 2);
    await subscription.unsubscribe();

    expect(past.map((e) => e.event!.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(live.map((e) => e.event!.data)).toEqual([{ n: 3 }, { n: 4 }]);
    expect(live.map((e) => e.event!.revision)).toEqual([2n, 3n]);
  });

  it('a filtered subscription to $all reports checkpoints over the events it skips', async () => {
    const skipped = Array.from({ length: 9 }, (_, i) => jsonEvent({ type: 'Skipped', data: { i } }));
    await client.appendToStream('skipped-1', skipped, { expectedRevision: NO_STREAM });
    await client.appendToStream('wanted-1', created(1), { expectedRevision: NO_STREAM });

    const checkpoints: Position[] = [];
    const filter = streamNameFilter({
      prefixes: ['wanted-'],
      maxSearchWindow: 4,
      checkpointInterval: 2,
      checkpointReached: (_subscription, position) => void checkpoints.push(position),
    });
    const subscription = client.subscribeToAll({ fromPosition: START, filter });
    const [wanted] = await take(subscription[Symbol.asyncIterator](), 1);
    await subscription.unsubscribe();

    expect(wanted!.event!.streamId).toBe('wanted-1');
    // A window of four times an interval of two: one checkpoint, at the eighth event scanned ($settings first).
    const eighth = standIn.store.log[7]!.position;
    expect(checkpoints).toEqual([{ commit: eighth, prepare: eighth }]);
  });
});
