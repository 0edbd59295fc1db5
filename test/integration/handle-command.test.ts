import { handleCommand } from '../../src/commands/handle-command.js';
import type { Decider } from '../../src/domain/decider.js';
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
});
