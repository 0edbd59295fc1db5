/**
 * emmett's side of the event store comparison (bench/compare/event-store.ts): its PostgreSQL event store as its
 * documentation sets it up (getPostgreSQLEventStore with a connection string, schema migrated before use), a
 * command through its CommandHandler (aggregateStream → handler → appendToStream with the version read as the
 * expected version), and the global order read in batches with readMessagesBatch, the read its consumers' puller
 * makes (without the puller's sleeps between batches).
 */
import { CommandHandler } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore, readMessagesBatch } from '@event-driven-io/emmett-postgresql';
import { dumbo } from '@event-driven-io/dumbo';
import type { StoreSide } from '../store-side.js';

type NoteAdded = { type: 'NoteAdded'; data: { text: string } };

const handle = CommandHandler<number, NoteAdded>({
  evolve: (state) => state + 1,
  initialState: () => 0,
});

export async function emmettSide(url: string): Promise<StoreSide> {
  const store = getPostgreSQLEventStore(url);
  await store.schema.migrate();
  const reader = dumbo({ connectionString: url });
  return {
    name: 'emmett',
    async command(streamId, events) {
      await handle(store, streamId, () => events.map((data): NoteAdded => ({ type: 'NoteAdded', data })));
    },
    async readAll(batchSize) {
      let after = 0n;
      let events = 0;
      const ids = new Set<string>();
      for (;;) {
        const batch = await readMessagesBatch(reader.execute, { after, batchSize });
        events += batch.messages.length;
        for (const m of batch.messages) ids.add(m.metadata.messageId);
        after = batch.currentGlobalPosition;
        if (batch.messages.length === 0) return { events, distinct: ids.size };
      }
    },
    async close() {
      await reader.close();
      await store.close();
    },
  };
}
