/**
 * docsvc's side of the event store comparison: its PostgresEventStore on a migrated database, a command through
 * the one command handler (handleCommand: readStream → fold → decide → append with the version read as the
 * expected version), the global order read with readAll pages (decoded and validated, as projections read it).
 */
import { handleCommand } from '../../src/commands/handle-command.js';
import type { Decider } from '../../src/domain/decider.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { migrate } from '../../src/infrastructure/migrations/migrator.js';
import { PgSqlClient } from '../../src/infrastructure/sql/pg-client.js';
import { testRegistry } from '../../test/support/test-events.js';
import type { StoreSide } from './store-side.js';

type NoteAdded = { type: 'NoteAdded'; data: { text: string } };

const notes: Decider<number, ReadonlyArray<{ text: string }>, NoteAdded> = {
  initialState: () => 0,
  decide: (texts) => texts.map((data) => ({ type: 'NoteAdded', data })),
  evolve: (state) => state + 1,
};

/** The pool size of node-postgres's default (emmett's pool keeps it), so that both sides have as many connections. */
const POOL = 10;

export async function docsvcSide(url: string): Promise<StoreSide> {
  const sql = new PgSqlClient(url, POOL);
  await migrate(sql);
  const store = new PostgresEventStore(sql, testRegistry());
  return {
    name: 'docsvc',
    async command(streamId, events) {
      await handleCommand(store, notes, streamId, events, { actor: 'bench' });
    },
    async readAll(limit) {
      let after: string | undefined;
      let events = 0;
      const ids = new Set<string>();
      for (;;) {
        const page = await store.readAll({ after, limit });
        events += page.events.length;
        for (const e of page.events) ids.add(e.eventId);
        after = page.last;
        if (page.events.length === 0) return { events, distinct: ids.size };
      }
    },
    close: () => sql.close(),
  };
}
