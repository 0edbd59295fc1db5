import { fold, type Decider } from '../domain/decider.js';
import { VersionConflictError } from '../infrastructure/event-store/errors.js';
import type { AppendOptions, AppendResult, EventStore } from '../infrastructure/event-store/event-store.js';

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

/**
 * The one command handler (ARCHITECTURE.md): read the stream → fold → decide → append with the version that
 * was read as the expected version, so a concurrent writer makes the append fail with VERSION_CONFLICT rather
 * than decide on stale state. A caller's `expectedVersion` (If-Match) is checked first: a stale one is a conflict
 * even when the command would change nothing.
 */
export async function handleCommand<State, Command, Event extends DomainEvent>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  options: Omit<AppendOptions, 'expectedVersion'> & { expectedVersion?: number } = {},
): Promise<CommandResult> {
  const recorded = await store.readStream(streamId);
  const version = recorded.length === 0 ? 0 : recorded[recorded.length - 1]!.streamPosition;
  if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
    throw new VersionConflictError(streamId, options.expectedVersion, version);
  }
  const state = fold(
    decider,
    recorded.map((e) => ({ type: e.type, data: e.data }) as Event),
  );
  const events = decider.decide(command, state);
  if (events.length === 0) return { version, position: undefined, changed: false };
  const { expectedVersion: _ignored, ...appendOptions } = options;
  const result: AppendResult = await store.append(streamId, events, {
    ...appendOptions,
    expectedVersion: version === 0 ? 'no_stream' : version,
  });
  return { ...result, changed: true };
}
