import { handleCommand } from '../../src/commands/handle-command.js';
import type { Decider } from '../../src/domain/decider.js';
import type { SqlExecutor } from '../../src/infrastructure/sql/sql-client.js';
import { VersionConflictError } from '../../src/infrastructure/event-store/errors.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';

type Event = { type: 'CounterIncremented'; data: { by: number } };
type Command = { type: 'Increment'; by: number };
/** A counter that refuses to go above 10 and ignores increments of 0. */
const counter: Decider<number, Command, Event> = {
  initialState: () => 0,
  evolve: (state, event) => state + event.data.by,
  decide: (command, state) => {
    if (state + command.by > 10) throw new Error('over the limit');
    return command.by === 0 ? [] : [{ type: 'CounterIncremented', data: { by: command.by } }];
  },
};

describe('the generic command handler', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    db = await openTestDatabase('pglite');
    store = new PostgresEventStore(db.client, testRegistry());
  });
  afterAll(() => db.drop());

  it('folds the stream, decides and appends at the version it read', async () => {
    expect(await handleCommand(store, counter, 'c1', { type: 'Increment', by: 4 })).toMatchObject({
      version: 1,
      changed: true,
    });
    expect(
      await handleCommand(store, counter, 'c1', { type: 'Increment', by: 5 }, { expectedVersion: 1 }),
    ).toMatchObject({ version: 2 });
    await expect(handleCommand(store, counter, 'c1', { type: 'Increment', by: 2 })).rejects.toThrow(
      'over the limit',
    );
    expect((await store.readStream('c1')).map((e) => e.data)).toEqual([{ by: 4 }, { by: 5 }]);
  });

  it('appends nothing for a command that changes nothing, and still refuses a stale expected version', async () => {
    await handleCommand(store, counter, 'c2', { type: 'Increment', by: 1 });
    expect(await handleCommand(store, counter, 'c2', { type: 'Increment', by: 0 })).toEqual({
      version: 1,
      position: undefined,
      changed: false,
    });
    await expect(
      handleCommand(store, counter, 'c2', { type: 'Increment', by: 0 }, { expectedVersion: 0 }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await store.readStream('c2')).toHaveLength(1);
  });

  it('stores events through the codec and decodes them with it before folding', async () => {
    // The counter's events stored with their amount doubled: decode must halve them, or the limit is misjudged.
    const doubled = {
      encode: (e: Event) => ({ type: e.type, data: { by: e.data.by * 2 } }),
      decode: (r: { type: string; data: unknown }) =>
        ({ type: r.type, data: { by: (r.data as { by: number }).by / 2 } }) as Event,
    };
    await handleCommand(store, counter, 'c3', { type: 'Increment', by: 4 }, { codec: doubled });
    await handleCommand(store, counter, 'c3', { type: 'Increment', by: 6 }, { codec: doubled });
    expect((await store.readStream('c3')).map((e) => e.data)).toEqual([{ by: 8 }, { by: 12 }]);
    await expect(
      handleCommand(store, counter, 'c3', { type: 'Increment', by: 1 }, { codec: doubled }),
    ).rejects.toThrow('over the limit');
  });

  it('runs the alsoWrite hooks in the append transaction with the decided events; a failing hook appends nothing', async () => {
    await db.client.exec('CREATE TABLE IF NOT EXISTS hook_log (stream text, amounts text)');
    const log = async (tx: SqlExecutor, events: readonly Event[]) => {
      await tx.query('INSERT INTO hook_log VALUES ($1, $2)', ['c4', events.map((e) => e.data.by).join(',')]);
    };
    await handleCommand(store, counter, 'c4', { type: 'Increment', by: 3 }, { alsoWrite: [log] });
    expect((await db.client.query('SELECT amounts FROM hook_log')).rows).toEqual([{ amounts: '3' }]);
    const refuse = async () => {
      throw new Error('refused in the transaction');
    };
    await expect(
      handleCommand(store, counter, 'c4', { type: 'Increment', by: 2 }, { alsoWrite: [log, refuse] }),
    ).rejects.toThrow('refused in the transaction');
    // The first hook's row went with the refused append.
    expect((await db.client.query('SELECT amounts FROM hook_log')).rows).toEqual([{ amounts: '3' }]);
    expect(await store.readStream('c4')).toHaveLength(1);
    // No event, no transaction: the hooks do not run for a command that changes nothing.
    await handleCommand(store, counter, 'c4', { type: 'Increment', by: 0 }, { alsoWrite: [refuse] });
  });

  it('builds a command from the folded state, and records the occurredAt it is given', async () => {
    const at = new Date('2031-05-06T07:08:09.000Z');
    await handleCommand(store, counter, 'c5', { type: 'Increment', by: 3 });
    const result = await handleCommand(
      store,
      counter,
      'c5',
      (state: number) => ({ type: 'Increment' as const, by: state }),
      { occurredAt: at, actor: 'tester' },
    );
    expect(result).toMatchObject({ version: 2, changed: true });
    const [, second] = await store.readStream('c5');
    expect(second!.data).toEqual({ by: 3 });
    expect(second!.metadata).toMatchObject({ occurredAt: at.toISOString(), actor: 'tester' });
  });
});
