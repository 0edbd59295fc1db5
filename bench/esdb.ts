/**
 * The EventStoreDB adapter's own cost (issue 16): appends/s and `$all` reads/s through EsdbEventStore and the real
 * @eventstore/db-client against the in-process stand-in, beside PostgresEventStore on PostgreSQL as the peer, and
 * migrate-events events/s from PostgreSQL into a fresh stand-in. The stand-in keeps its events in memory in this
 * same process, so its figures are adapter + client + stand-in sharing the cores, not a server's.
 * Run: npm run bench:esdb -- [--rounds 5] [--seconds 2] [--events 20000] [--database-url postgres://…]
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import {
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  type Position,
} from '@eventstore/db-client';
import { EsdbEventStore } from '../src/infrastructure/event-store/esdb/esdb-event-store.js';
import { migrateEvents } from '../src/infrastructure/event-store/esdb/migrate-events.js';
import type { AppendItem, AppendOptions, EventStore } from '../src/infrastructure/event-store/event-store.js';
import { PostgresEventStore } from '../src/infrastructure/event-store/postgres-event-store.js';
import { startStandIn } from '../test/support/esdb-stand-in/index.js';
import { testRegistry } from '../test/support/test-events.js';
import { arg, benchDatabase, fmt, type BenchDatabase } from './support.js';

const rounds = Number(arg('rounds', '5'));
const seconds = Number(arg('seconds', '2'));
const eventCount = Number(arg('events', '20000'));
const serverUrl = arg(
  'database-url',
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);
const PAGE = 500;
const PEER = 'PostgresEventStore';
const CLIENT_ONLY = 'client alone → stand-in (BatchAppend)';
const READ = `$all read: events/s, pages of ${PAGE}`;

const note = (i: number) => ({ type: 'NoteAdded', data: { text: `note ${i} ${'x'.repeat(200)}` } });
const since = (start: number) => (performance.now() - start) / 1000;

/** Every figure's value per round, by figure and then by store. */
const samples = new Map<string, Map<string, number[]>>();
function record(figure: string, store: string, value: number): void {
  const byStore = samples.get(figure) ?? new Map<string, number[]>();
  byStore.set(store, [...(byStore.get(store) ?? []), value]);
  samples.set(figure, byStore);
  console.log(`  ${figure} | ${store}: ${fmt(value)}`);
}

type Appender = Pick<EventStore, 'append'>;

interface Target {
  name: string;
  /** The client alone has no idempotency keys: it runs the plain appends only. */
  plainOnly?: boolean;
  open(): Promise<{ store: Appender; close(): Promise<void> }>;
}

/** A fresh stand-in and a client for it; closing checks that the client took the append path asked for. */
async function esdbClient(batchAppend: boolean) {
  const standIn = await startStandIn({ batchAppend });
  const client = EventStoreDBClient.connectionString(standIn.connectionString);
  return {
    client,
    async close() {
      await client.dispose();
      standIn.stop();
      const otherPath = batchAppend ? standIn.calls.append : standIn.calls.batchAppend;
      if (otherPath > 0) throw new Error(`the client did not append only through the path under test`);
    },
  };
}

function standInTarget(batchAppend: boolean, keys: BenchDatabase): Target {
  return {
    name: `adapter → stand-in (${batchAppend ? 'BatchAppend' : 'Append'})`,
    async open() {
      const { client, close } = await esdbClient(batchAppend);
      return { store: new EsdbEventStore(client, keys.client, testRegistry()), close };
    },
  };
}

/** The same appends through the client without the adapter: the floor under the adapter's figures. */
function clientOnlyTarget(): Target {
  return {
    name: CLIENT_ONLY,
    plainOnly: true,
    async open() {
      const { client, close } = await esdbClient(true);
      const append: Appender['append'] = async (streamId, events) => {
        const sent = events.map((e) => jsonEvent({ type: e.type, data: e.data as never }));
        await client.appendToStream(streamId, sent, { expectedRevision: NO_STREAM });
        return { version: 1, position: '' };
      };
      return { store: { append }, close };
    },
  };
}

function peerTarget(db: BenchDatabase): Target {
  const store = new PostgresEventStore(db.client, testRegistry());
  return { name: PEER, open: async () => ({ store, close: async () => undefined }) };
}

interface Workload {
  figure: string;
  writers: number;
  keyed: boolean;
}

const workloads: Workload[] = [
  { figure: 'appends/s, new streams (no_stream), 1 writer', writers: 1, keyed: false },
  { figure: 'appends/s, new streams (no_stream), 8 writers', writers: 8, keyed: false },
  { figure: "appends/s, keyed ('any' + idempotency key), 1 writer", writers: 1, keyed: true },
  { figure: "appends/s, keyed ('any' + idempotency key), 8 writers", writers: 8, keyed: true },
];

/** One-event appends for the time given, each writer in turn; answers appends/s. */
async function appendRun(store: Appender, { writers, keyed }: Workload): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let appends = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      // A keyed writer stays on a stream for 20 appends, so the adapter's tail read has events to look through.
      let stream = randomUUID();
      for (let n = 0; performance.now() < deadline; n++, appends++) {
        if (!keyed || n % 20 === 0) stream = randomUUID();
        const options: AppendOptions = keyed
          ? { expectedVersion: 'any', idempotencyKey: randomUUID(), actor: 'bench' }
          : { expectedVersion: 'no_stream', actor: 'bench' };
        await store.append(stream, [note(n)], options);
      }
    }),
  );
  return appends / since(started);
}

/** Each round opens every target afresh, in an order that turns by one each round. */
async function appendRounds(targets: Target[]): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    console.log(`round ${round + 1} (appends): ${order.map((t) => t.name).join(', ')}`);
    for (const target of order) {
      const { store, close } = await target.open();
      try {
        for (const workload of workloads.filter((w) => !(w.keyed && target.plainOnly)))
          record(workload.figure, target.name, await appendRun(store, workload));
      } finally {
        await close();
      }
    }
  }
}

/** The migration's source: streams of ten events, a hundred streams per transaction. */
async function seedSource(store: PostgresEventStore): Promise<void> {
  for (let done = 0; done < eventCount;) {
    const items: AppendItem[] = [];
    while (items.length < 100 && done < eventCount) {
      const events = Array.from({ length: Math.min(10, eventCount - done) }, (_, i) => note(done + i));
      items.push({
        streamId: randomUUID(),
        events,
        options: { expectedVersion: 'no_stream', actor: 'bench' },
      });
      done += events.length;
    }
    await store.appendMany(items);
  }
}

/** The whole log in pages; answers events/s, and fails on a count that is not the source's. */
async function readAllRun(store: EventStore): Promise<number> {
  const started = performance.now();
  let after: string | undefined;
  let total = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: PAGE });
    if (page.events.length === 0) break;
    total += page.events.length;
    after = page.last;
  }
  return checkedRate(total, started);
}

/** The same pages through the client alone; a page starts at the last one's final event, counted once. */
async function clientReadRun(client: EventStoreDBClient): Promise<number> {
  const started = performance.now();
  let from: Position | typeof START = START;
  let total = 0;
  for (let skip: bigint | undefined; ;) {
    let page = 0;
    let last: Position | undefined;
    for await (const { event } of client.readAll({
      fromPosition: from,
      direction: FORWARDS,
      maxCount: PAGE,
    })) {
      page++;
      last = event!.position;
      if (last.commit !== skip && !event!.type.startsWith('$')) total++;
    }
    if (page < PAGE || !last) break;
    [from, skip] = [last, last.commit];
  }
  return checkedRate(total, started);
}

function checkedRate(total: number, started: number): number {
  if (total !== eventCount) throw new Error(`read ${total} events of ${eventCount}`);
  return total / since(started);
}

/** migrate-events into a fresh stand-in, then `$all` read back from it through the adapter. */
async function migrateRound(source: BenchDatabase): Promise<void> {
  const target = 'adapter → stand-in (BatchAppend)';
  const { client, close } = await esdbClient(true);
  try {
    const started = performance.now();
    // The last progress report comes when the last event is moved, just before the verification pass.
    let moved = started;
    const result = await migrateEvents(source.client, client, {
      onProgress: () => (moved = performance.now()),
    });
    const total = since(started);
    if (!result.verification.ok || result.migrated !== eventCount)
      throw new Error(
        `migration moved ${result.migrated} events, verification ok: ${result.verification.ok}`,
      );
    record('migrate-events: events/s, move', target, eventCount / ((moved - started) / 1000));
    record('migrate-events: events/s, move + verification', target, eventCount / total);
    const adapter = new EsdbEventStore(client, source.client, testRegistry());
    record(READ, target, await readAllRun(adapter));
    record(READ, CLIENT_ONLY, await clientReadRun(client));
  } finally {
    await close();
  }
}

async function readRounds(source: BenchDatabase): Promise<void> {
  const peer = new PostgresEventStore(source.client, testRegistry());
  const peerRead = async () => record(READ, PEER, await readAllRun(peer));
  for (let round = 0; round < rounds; round++) {
    console.log(
      `round ${round + 1} (migrate, reads): ${round % 2 === 0 ? 'stand-in first' : `${PEER} first`}`,
    );
    if (round % 2 === 0) await migrateRound(source).then(peerRead);
    else await peerRead().then(() => migrateRound(source));
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function printSummary(): void {
  console.log(`\n| figure | store | median | min–max | × ${PEER} | rounds |`);
  console.log('|---|---|---:|---:|---:|---|');
  for (const [figure, byStore] of samples) {
    const peer = byStore.get(PEER);
    for (const [store, values] of byStore) {
      const ratio = peer && store !== PEER ? `${(median(values) / median(peer)).toFixed(2)}×` : '—';
      const spread = `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
      console.log(
        `| ${figure} | ${store} | ${fmt(median(values))} | ${spread} | ${ratio} | ${values.map(fmt).join(', ')} |`,
      );
    }
  }
}

console.log(
  `# EventStoreDB adapter benchmark — ${new Date().toISOString()}, ${cpus().length} cores, Node ${process.version}`,
);
console.log(
  `${rounds} rounds, ${seconds} s per append figure, ${fmt(eventCount)} events to migrate and read; the stand-in ` +
    'runs in this process (adapter + client + stand-in cost, not a server)\n',
);
const keys = await benchDatabase('postgres', serverUrl);
try {
  console.log(`peer and idempotency keys: ${keys.label}`);
  await appendRounds([
    standInTarget(true, keys),
    standInTarget(false, keys),
    clientOnlyTarget(),
    peerTarget(keys),
  ]);
} finally {
  await keys.dispose();
}
const source = await benchDatabase('postgres', serverUrl);
try {
  const seeding = performance.now();
  await seedSource(new PostgresEventStore(source.client, testRegistry()));
  console.log(`source seeded: ${fmt(eventCount)} events in ${since(seeding).toFixed(1)} s`);
  await readRounds(source);
} finally {
  await source.dispose();
}
printSummary();
