import { fold, type Decider } from '../domain/decider.js';
import { VersionConflictError } from '../infrastructure/event-store/errors.js';
import { canonicalSha256 } from '../infrastructure/event-store/canonical-json.js';
import { assertSameRequest, type StoredKey } from '../infrastructure/event-store/idempotency-keys.js';
import type {
  AppendItem,
  AppendManyOptions,
  AppendOptions,
  EventStore,
  NewEvent,
  RecordedEvent,
} from '../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../infrastructure/sql/sql-client.js';

export interface DomainEvent {
  type: string;
  data: unknown;
}

export interface CommandResult {
  version: number;
  /** Undefined when the command changed nothing and no event was appended. */
  position: string | undefined;
  changed: boolean;
}

/** How a stream's events are stored: e.g. sealed with a key of the stream's own. */
export interface EventCodec<Event> {
  decode(recorded: RecordedEvent): Event | Promise<Event>;
  encode(event: Event): NewEvent | Promise<NewEvent>;
}

/** A write that must commit with the decided events (a file, a key), in the append's transaction. */
export type AlsoWrite<Event> = (tx: SqlExecutor, events: readonly Event[]) => Promise<void>;

export interface CommandOptions<Event> extends Omit<AppendOptions, 'expectedVersion' | 'alsoWrite'> {
  /** The caller's version (If-Match): a stale one is a conflict even when the command would change nothing. */
  expectedVersion?: number;
  /** Defaults to storing events as they are. */
  codec?: EventCodec<Event>;
  /** Run in order, in the append transaction, before the events are inserted; an error aborts the append. */
  alsoWrite?: ReadonlyArray<AlsoWrite<Event>>;
  /** The stream is new (its id was just made): there is nothing to read, and the append expects no stream. */
  newStream?: boolean;
}

const plain: EventCodec<DomainEvent> = {
  decode: (e) => ({ type: e.type, data: e.data }),
  encode: (e) => ({ type: e.type, data: e.data }),
};

/** One command of a batch: its stream, the command (or a function of the folded state) and its options. */
export interface CommandItem<State, Command, Event> {
  streamId: string;
  command: Command | ((state: State) => Command);
  options?: CommandOptions<Event>;
}

/** A batch's own steps in its transaction (EventStore.appendMany), given each item's decided events. */
export interface BatchOptions<Event, Refusal> {
  /** Run first; one entry per item: undefined to append it, or why not (its outcome is then `{ refused }`). */
  admit?: (
    tx: SqlExecutor,
    decided: ReadonlyArray<readonly Event[]>,
  ) => Promise<ReadonlyArray<Refusal | undefined>>;
  /** Run after the items' own hooks, with the items that are appended (index in the batch and events). */
  alsoWrite?: (
    tx: SqlExecutor,
    appended: ReadonlyArray<{ index: number; events: readonly Event[] }>,
  ) => Promise<void>;
}

export type CommandOutcome<Refusal> = CommandResult | { refused: Refusal };

/**
 * The one command handler (ARCHITECTURE.md), as a batch of one: see handleCommands. The command may be given as
 * a function of the folded state, for a command that carries part of the state forward (it then sees exactly the
 * state that the version check protects).
 */
export async function handleCommand<State, Command, Event extends DomainEvent>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command | ((state: State) => Command),
  options: CommandOptions<Event> = {},
): Promise<CommandResult> {
  const [outcome] = await handleCommands(store, decider, [{ streamId, command, options }]);
  return outcome as CommandResult;
}

/**
 * The one command handler for one command or many: read the streams (one query; a new stream has nothing to
 * read) → decode → fold → decide → encode → append them all in one transaction (EventStore.appendMany), each at
 * the version that was read, so a concurrent writer makes the batch fail with VERSION_CONFLICT rather than decide
 * on stale state. A caller's `expectedVersion` (If-Match) is checked first. A command that decides no event
 * appends nothing; an error from any decision, version check or hook fails the whole batch.
 */
export async function handleCommands<State, Command, Event extends DomainEvent, Refusal = never>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  items: ReadonlyArray<CommandItem<State, Command, Event>>,
  batch: BatchOptions<Event, Refusal> = {},
): Promise<Array<CommandOutcome<Refusal>>> {
  const keyed = items.map(withRequestDigest);
  const replays = await firstAnswers(store, keyed);
  const fresh = keyed.flatMap((item, index) => (replays[index] ? [] : [index]));
  const outcomes =
    fresh.length > 0
      ? await decideAndAppend(
          store,
          decider,
          fresh.map((i) => keyed[i]!),
          batch,
          fresh,
        )
      : [];
  const results: Array<CommandOutcome<Refusal>> = replays.map((r) => r!);
  fresh.forEach((index, n) => (results[index] = outcomes[n]!));
  return results;
}

/**
 * An item with an idempotency key carries a digest of its command (when the command is a value), stored with
 * the key: a retry of the same command gets the first answer, another command with that key is refused.
 */
function withRequestDigest<S, C, E extends DomainEvent>(item: CommandItem<S, C, E>): CommandItem<S, C, E> {
  const options = item.options;
  if (!options?.idempotencyKey || options.requestSha256 || typeof item.command === 'function') return item;
  return { ...item, options: { ...options, requestSha256: canonicalSha256(item.command) } };
}

/**
 * The first answer of each item whose idempotency key was used by a write that completed, before anything is
 * read or decided: a retry must not be judged against the state its own first attempt produced (If-Match would
 * fail, a re-upload would be a duplicate of itself).
 */
async function firstAnswers<S, C, E extends DomainEvent>(
  store: EventStore,
  items: ReadonlyArray<CommandItem<S, C, E>>,
): Promise<Array<CommandResult | undefined>> {
  const keys = items.flatMap((i) => (i.options?.idempotencyKey ? [i.options.idempotencyKey] : []));
  const stored = keys.length > 0 ? await store.idempotencyKeys(keys) : new Map<string, StoredKey>();
  return items.map(({ streamId, options }) => {
    const key = options?.idempotencyKey;
    const first = key ? stored.get(key) : undefined;
    if (!key || !first?.result) return undefined;
    assertSameRequest(key, first, streamId, options?.requestSha256);
    return { ...first.result, changed: true };
  });
}

async function decideAndAppend<State, Command, Event extends DomainEvent, Refusal>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  items: ReadonlyArray<CommandItem<State, Command, Event>>,
  batch: BatchOptions<Event, Refusal>,
  /** Each item's index in the caller's batch, which the batch's own steps speak of. */
  indexes: readonly number[],
): Promise<Array<CommandOutcome<Refusal>>> {
  const toRead = items.filter((i) => !i.options?.newStream).map((i) => i.streamId);
  const streams = toRead.length > 0 ? await store.readStreams(toRead) : new Map<string, RecordedEvent[]>();
  const decided = await Promise.all(
    items.map((item) => decideOne(decider, item, streams.get(item.streamId) ?? [])),
  );
  const appending = decided.flatMap((d, index) => (d.events.length > 0 ? [index] : []));
  if (appending.length === 0) return decided.map((d) => d.unchanged);
  const outcomes = await store.appendMany<Refusal>(
    await Promise.all(appending.map((index) => appendItem(items[index]!, decided[index]!))),
    batchSteps(batch, decided, appending, indexes),
  );
  const results: Array<CommandOutcome<Refusal>> = decided.map((d) => d.unchanged);
  appending.forEach((index, n) => {
    const outcome = outcomes[n]!;
    results[index] = 'refused' in outcome ? outcome : { ...outcome, changed: true };
  });
  return results;
}

/** The batch's steps, told of items by their index in the caller's batch (replayed ones are not there). */
function batchSteps<Event, Refusal>(
  batch: BatchOptions<Event, Refusal>,
  decided: ReadonlyArray<Decided<Event>>,
  appending: readonly number[],
  indexes: readonly number[],
): AppendManyOptions<Refusal> {
  const all = (length: number) => Array.from({ length }, (): readonly Event[] => []);
  return {
    admit:
      batch.admit &&
      (async (tx) => {
        const events = all(Math.max(...indexes) + 1);
        decided.forEach((d, n) => (events[indexes[n]!] = d.events));
        const refusals = await batch.admit!(tx, events);
        return appending.map((n) => refusals[indexes[n]!]);
      }),
    alsoWrite:
      batch.alsoWrite &&
      ((tx, admitted) =>
        batch.alsoWrite!(
          tx,
          admitted.map((a) => ({ index: indexes[appending[a]!]!, events: decided[appending[a]!]!.events })),
        )),
  };
}

interface Decided<Event> {
  events: Event[];
  version: number;
  unchanged: CommandResult;
}

async function decideOne<State, Command, Event extends DomainEvent>(
  decider: Decider<State, Command, Event>,
  { streamId, command, options = {} }: CommandItem<State, Command, Event>,
  recorded: readonly RecordedEvent[],
): Promise<Decided<Event>> {
  const { expectedVersion, codec = plain as EventCodec<Event> } = options;
  const version = recorded.at(-1)?.streamPosition ?? 0;
  if (expectedVersion !== undefined && expectedVersion !== version) {
    throw new VersionConflictError(streamId, expectedVersion, version);
  }
  const state = fold(decider, await Promise.all(recorded.map((e) => codec.decode(e))));
  const events = decider.decide(
    typeof command === 'function' ? (command as (s: State) => Command)(state) : command,
    state,
  );
  return { events, version, unchanged: { version, position: undefined, changed: false } };
}

async function appendItem<Event extends DomainEvent>(
  { streamId, options = {} }: Pick<CommandItem<unknown, unknown, Event>, 'streamId' | 'options'>,
  { events, version }: Decided<Event>,
): Promise<AppendItem> {
  const {
    expectedVersion: _ifMatch,
    codec = plain as EventCodec<Event>,
    alsoWrite = [],
    newStream: _new,
    ...appendOptions
  } = options;
  return {
    streamId,
    events: await Promise.all(events.map((e) => codec.encode(e))),
    options: {
      ...appendOptions,
      expectedVersion: version === 0 ? 'no_stream' : version,
      // None when there is nothing to write: an append without hooks is one statement (append-batch.ts).
      ...(alsoWrite.length > 0 && {
        alsoWrite: async (tx: SqlExecutor) => {
          for (const write of alsoWrite) await write(tx, events);
        },
      }),
    },
  };
}
