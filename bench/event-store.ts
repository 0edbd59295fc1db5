/**
 * Event store throughput: appends/s with 1 and 8 concurrent writers for 1-event and 10-event commands, and
 * readAll events/s over everything appended. Run: npm run bench:event-store -- [--targets postgres,pglite]
 * [--database-url postgres://…] [--seconds 5]
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { PostgresEventStore } from '../src/infrastructure/event-store/postgres-event-store.js';
import { testRegistry } from '../test/support/test-events.js';
import { arg, benchDatabase, fmt } from './support.js';

const seconds = Number(arg('seconds', '5'));
const serverUrl = arg(
  'database-url',
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);
const kinds = arg('targets', 'postgres,pglite').split(',') as Array<'postgres' | 'pglite'>;

async function appendRun(store: PostgresEventStore, writers: number, eventsPerCommand: number) {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let commands = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      // Each writer edits its own documents: a new stream every 20 commands, expected version checked each time.
      let stream = randomUUID();
      let version = 0;
      while (performance.now() < deadline) {
        if (version >= 20 * eventsPerCommand) {
          stream = randomUUID();
          version = 0;
        }
        const events = Array.from({ length: eventsPerCommand }, (_, i) => ({
          type: 'NoteAdded',
          data: { text: `note ${i} ${'x'.repeat(200)}` },
        }));
        const result = await store.append(stream, events, {
          expectedVersion: version === 0 ? 'no_stream' : version,
          actor: 'bench',
        });
        version = result.version;
        commands++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { commandsPerSec: commands / elapsed, eventsPerSec: (commands * eventsPerCommand) / elapsed };
}

async function readAllRun(store: PostgresEventStore) {
  const started = performance.now();
  let after: string | undefined;
  let total = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    if (page.events.length === 0) break;
    total += page.events.length;
    after = page.last;
  }
  return { events: total, eventsPerSec: total / ((performance.now() - started) / 1000) };
}

console.log(
  `# event store benchmark — ${new Date().toISOString()}, ${cpus().length} cores, ${seconds} s per run\n`,
);
for (const kind of kinds) {
  const db = await benchDatabase(kind, serverUrl);
  try {
    const store = new PostgresEventStore(db.client, testRegistry());
    console.log(`## ${db.label}\n`);
    console.log('| writers | events/command | commands/s | events/s |');
    console.log('|---:|---:|---:|---:|');
    for (const writers of [1, 8]) {
      for (const perCommand of [1, 10]) {
        const r = await appendRun(store, writers, perCommand);
        console.log(`| ${writers} | ${perCommand} | ${fmt(r.commandsPerSec)} | ${fmt(r.eventsPerSec)} |`);
      }
    }
    const read = await readAllRun(store);
    console.log(
      `\nreadAll (pages of 1,000, decoded and validated): ${fmt(read.events)} events at ${fmt(read.eventsPerSec)} events/s\n`,
    );
  } finally {
    await db.dispose();
  }
}
