/**
 * What a `Read` request asks for, taken out of its options, and which stored events answer it.
 *
 * Boundaries follow the server (https://developers.eventstore.com/clients/grpc/reading-events.html,
 * .../subscriptions.html, and AllReader in EventStore/EventStore):
 * - a stream read starts at the given revision, inclusive, in either direction;
 * - a `$all` read forwards starts at the given position, inclusive; backwards it returns what lies before it;
 * - a subscription starts *after* the given revision or position; from the end it only sees new events.
 */
import { streamsPb, type StreamsPb } from './generated.js';
import type { StoredEvent } from './memory-store.js';
import { streamNameOf } from './messages.js';

const Options = streamsPb.ReadReq.Options;

type From = 'start' | 'end' | bigint;

export interface ReadPlan {
  target: { kind: 'stream'; name: string; from: From } | { kind: 'all'; from: From };
  backwards: boolean;
  subscription: boolean;
  /** The most events to send; unbounded for a subscription. */
  count: number;
  filter: EventFilter | null;
  /** Answer event ids as two integer halves instead of a string, as the reader asked. */
  structuredUuid: boolean;
}

export interface EventFilter {
  matches(event: StoredEvent): boolean;
  /** A filtered `$all` subscription reports a checkpoint after this many events scanned. */
  checkpointEvery: number;
}

/**
 * The server's search window when the client does not set one (the `count` window): the gRPC read batch size.
 * The checkpoint interval is the client's multiplier times the window (EventStore/EventStore pull request #2608).
 */
const DEFAULT_SEARCH_WINDOW = 32;

export function readPlan(options: StreamsPb.ReadReq.Options): ReadPlan {
  const subscription = options.getCountOptionCase() === Options.CountOptionCase.SUBSCRIPTION;
  const uuidCase = options.getUuidOption()?.getContentCase();
  return {
    target: target(options),
    backwards: options.getReadDirection() === Options.ReadDirection.BACKWARDS,
    subscription,
    count: subscription ? Infinity : Number(BigInt(options.getCount())),
    filter: eventFilter(options.getFilter()),
    structuredUuid: uuidCase === Options.UUIDOption.ContentCase.STRUCTURED,
  };
}

function target(options: StreamsPb.ReadReq.Options): ReadPlan['target'] {
  const stream = options.getStream();
  if (stream) {
    const cases = Options.StreamOptions.RevisionOptionCase;
    const selected = stream.getRevisionOptionCase();
    const from = fromOf(selected === cases.START, selected === cases.END, () => BigInt(stream.getRevision()));
    return { kind: 'stream', name: streamNameOf(stream.getStreamIdentifier()), from };
  }
  const all = options.getAll();
  const cases = Options.AllOptions.AllOptionCase;
  const selected = all?.getAllOptionCase();
  // Positions are compared by commit position: here it always equals the prepare position.
  const from = fromOf(selected === cases.START, selected === cases.END, () =>
    BigInt(all?.getPosition()?.getCommitPosition() ?? '0'),
  );
  return { kind: 'all', from };
}

function fromOf(start: boolean, end: boolean, exact: () => bigint): From {
  return start ? 'start' : end ? 'end' : exact();
}

/** Prefixes match by "starts with", a regex by a search anywhere in the name (as .NET Regex.IsMatch does). */
function eventFilter(filter: StreamsPb.ReadReq.Options.FilterOptions | undefined): EventFilter | null {
  if (!filter) return null;
  const onStream = filter.getFilterCase() === Options.FilterOptions.FilterCase.STREAM_IDENTIFIER;
  const expression = onStream ? filter.getStreamIdentifier() : filter.getEventType();
  const prefixes = expression?.getPrefixList() ?? [];
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : null;
  const test = (value: string) =>
    prefixes.length > 0 ? prefixes.some((prefix) => value.startsWith(prefix)) : (regex?.test(value) ?? true);
  const window = filter.getWindowCase() === Options.FilterOptions.WindowCase.MAX ? filter.getMax() : 0;
  const multiplier = Math.max(1, filter.getCheckpointintervalmultiplier());
  return {
    matches: (event) => test(onStream ? event.streamName : event.type),
    checkpointEvery: (window > 0 ? window : DEFAULT_SEARCH_WINDOW) * multiplier,
  };
}

/** The events already stored that answer the plan, in delivery order; undefined for a read of a missing stream. */
export function pastEvents(
  plan: ReadPlan,
  streamOf: (name: string) => readonly StoredEvent[] | undefined,
  log: readonly StoredEvent[],
): readonly StoredEvent[] | undefined {
  // Copies, not views: a subscription queues these while later appends grow the same arrays.
  if (plan.target.kind === 'all') return pastOfAll(plan, plan.target.from, log);
  const events = streamOf(plan.target.name);
  if (!events) return plan.subscription ? [] : undefined;
  const from = plan.target.from;
  if (plan.subscription)
    return from === 'start' ? [...events] : from === 'end' ? [] : events.slice(Number(from) + 1);
  if (!plan.backwards)
    return from === 'start' ? [...events] : from === 'end' ? [] : events.slice(Number(from));
  const last = from === 'start' ? 0 : from === 'end' ? events.length - 1 : Number(from);
  return events.slice(0, Math.min(last, events.length - 1) + 1).reverse();
}

function pastOfAll(plan: ReadPlan, from: From, log: readonly StoredEvent[]): readonly StoredEvent[] {
  if (from === 'start') return plan.backwards && !plan.subscription ? [] : [...log];
  if (from === 'end') return plan.backwards && !plan.subscription ? [...log].reverse() : [];
  if (plan.subscription) return log.filter((event) => event.position > from);
  if (!plan.backwards) return log.filter((event) => event.position >= from);
  return log.filter((event) => event.position < from).reverse();
}
