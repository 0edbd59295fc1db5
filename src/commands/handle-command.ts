import { fold, type Decider } from '../domain/decider.js';
import { VersionConflictError } from '../infrastructure/event-store/errors.js';
import type {
  AppendOptions,
  AppendResult,
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
  decode(recorded: RecordedEvent): Event;
  encode(event: Event): NewEvent;
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
}

const plain: EventCodec<DomainEvent> = {
  decode: (e) => ({ type: e.type, data: e.data }),
  encode: (e) => ({ type: e.type, data: e.data }),
};

/**
 * The one command handler (ARCHITECTURE.md): read the stream → decode → fold → decide → encode → append with the
 * version that was read as the expected version, so a concurrent writer makes the append fail with
 * VERSION_CONFLICT rather than decide on stale state. A caller's `expectedVersion` (If-Match) is checked first.
 * The command may be given as a function of the folded state, for a command that carries part of the state
 * forward (it then sees exactly the state that the version check protects).
 */
export async function handleCommand<State, Command, Event extends DomainEvent>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command | ((state: State) => Command),
  options: CommandOptions<Event> = {},
): Promise<CommandResult> {
  const { expectedVersion, codec = plain as EventCodec<Event>, alsoWrite = [], ...appendOptions } = options;
  const recorded = await store.readStream(streamId);
  const version = recorded.at(-1)?.streamPosition ?? 0;
  if (expectedVersion !== undefined && expectedVersion !== version) {
    throw new VersionConflictError(streamId, expectedVersion, version);
  }
  const state = fold(
    decider,
    recorded.map((e) => codec.decode(e)),
  );
  const events = decider.decide(
    typeof command === 'function' ? (command as (s: State) => Command)(state) : command,
    state,
  );
  if (events.length === 0) return { version, position: undefined, changed: false };
  const result: AppendResult = await store.append(
    streamId,
    events.map((e) => codec.encode(e)),
    {
      ...appendOptions,
      expectedVersion: version === 0 ? 'no_stream' : version,
      alsoWrite: async (tx) => {
        for (const write of alsoWrite) await write(tx, events);
      },
    },
  );
  return { ...result, changed: true };
}
