/**
 * The stand-in's storage: streams, the `$all` log and the append decision, in memory.
 *
 * The append decision follows EventStoreDB's own `IndexCommitter.CheckCommit` (EventStore/EventStore,
 * src/EventStore.Core/Services/Storage/ReaderIndex/IndexCommitter.cs) and the documented client semantics
 * (https://developers.eventstore.com/clients/grpc/appending-events.html): an append either writes, is recognised
 * as an idempotent repeat of an earlier write (success with the earlier result, nothing written), or is refused as
 * a wrong expected version carrying the stream's current revision.
 */
import type { Clock } from '../../../src/infrastructure/clock/clock.js';

export type Expectation =
  | { kind: 'any' }
  | { kind: 'no_stream' }
  | { kind: 'stream_exists' }
  | { kind: 'revision'; revision: bigint };

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export interface StoredEvent extends ProposedEvent {
  streamName: string;
  revision: bigint;
  /** .NET ticks since the Unix epoch: the unit the server sends in the `created` metadata entry. */
  created: bigint;
  /**
   * The event's place in the log. The server reports an event appended through gRPC (an implicitly committed
   * prepare) with commit position = prepare position = its log position (AllReader.ReadAllEventsForward), so one
   * number serves as both here.
   */
  position: bigint;
}

/** `currentRevision` null means the stream does not exist (the protocol's `no_stream`). */
export type AppendOutcome =
  | { ok: true; currentRevision: bigint | null; position: bigint | null }
  | { ok: false; currentRevision: bigint | null; expected: Expectation };

type Decision = { kind: 'write' } | { kind: 'wrong' } | { kind: 'idempotent'; last: StoredEvent };

const TICKS_PER_MS = 10_000n;
/** Log positions are byte offsets on a real server: the gaps here vary with the event's size too, so nothing can
 *  rely on a fixed stride. */
const RECORD_OVERHEAD = 64;

export class MemoryStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly allLog: StoredEvent[] = [];
  /** Event id → stored event, over every stream: the server's committed-event lookup for `any`/`stream_exists`. */
  private readonly byId = new Map<string, StoredEvent>();
  private readonly listeners = new Set<(event: StoredEvent) => void>();
  private nextPosition = 128n;

  constructor(private readonly clock: Clock) {}

  /** Events of one stream in revision order; undefined when the stream does not exist. */
  stream(name: string): readonly StoredEvent[] | undefined {
    return this.streams.get(name);
  }

  /** `$all`, in position order. */
  get log(): readonly StoredEvent[] {
    return this.allLog;
  }

  /** Calls `listener` for every event written from now on, synchronously inside `append`. */
  onAppend(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  append(name: string, expected: Expectation, proposed: readonly ProposedEvent[]): AppendOutcome {
    const events = this.streams.get(name) ?? [];
    const current = events.length > 0 ? BigInt(events.length - 1) : null;
    const decision = this.decide(name, events, expected, proposed);
    if (decision.kind === 'wrong') return { ok: false, currentRevision: current, expected };
    if (decision.kind === 'idempotent') {
      return { ok: true, currentRevision: decision.last.revision, position: decision.last.position };
    }
    if (proposed.length === 0) return { ok: true, currentRevision: current, position: null };
    const last = this.write(name, events, proposed);
    return { ok: true, currentRevision: last.revision, position: last.position };
  }

  private decide(
    name: string,
    events: readonly StoredEvent[],
    expected: Expectation,
    proposed: readonly ProposedEvent[],
  ): Decision {
    // As on the server, no_stream and a missing stream's current version are the same number: one below the first
    // revision. So no_stream on a stream that has events takes the "behind the end" path below, like a revision.
    const current = BigInt(events.length) - 1n;
    if (expected.kind === 'stream_exists' && current < 0n) return { kind: 'wrong' };
    if (expected.kind === 'any' || expected.kind === 'stream_exists') return this.byIdentity(name, proposed);
    const expectedNumber = expected.kind === 'no_stream' ? -1n : expected.revision;
    if (expectedNumber < current) return byPlace(events, expectedNumber, proposed);
    return expectedNumber === current ? { kind: 'write' } : { kind: 'wrong' };
  }

  /**
   * Without an exact expectation the server looks each id up among committed events: the first id unknown in this
   * stream means a new write; all known means a repeat; known then unknown is "corrupted idempotency", which it
   * answers as a wrong expected version. The server's lookup is a bounded cache ("in quick succession", say the
   * docs); this one never forgets.
   */
  private byIdentity(name: string, proposed: readonly ProposedEvent[]): Decision {
    let last: StoredEvent | undefined;
    for (const [index, event] of proposed.entries()) {
      const known = this.byId.get(event.id);
      if (!known || known.streamName !== name) return index === 0 ? { kind: 'write' } : { kind: 'wrong' };
      last = known;
    }
    return last ? { kind: 'idempotent', last } : { kind: 'write' };
  }

  private write(name: string, events: StoredEvent[], proposed: readonly ProposedEvent[]): StoredEvent {
    const created = BigInt(this.clock.now().getTime()) * TICKS_PER_MS;
    const written = proposed.map((event, index): StoredEvent => {
      const position = this.nextPosition;
      this.nextPosition += BigInt(
        RECORD_OVERHEAD + name.length + event.data.length + event.customMetadata.length,
      );
      return { ...event, streamName: name, revision: BigInt(events.length + index), created, position };
    });
    events.push(...written);
    this.streams.set(name, events);
    this.allLog.push(...written);
    for (const event of written) this.byId.set(event.id, event);
    for (const event of written) for (const listener of this.listeners) listener(event);
    return written[written.length - 1]!;
  }
}

/**
 * With an exact expectation (or no_stream) behind the stream's end, the server compares the ids with the events
 * that follow the expected revision: all equal is a repeat, the first different is a wrong expected version, a
 * later one different is corrupted idempotency (also a wrong expected version). An empty append there is refused.
 */
function byPlace(
  events: readonly StoredEvent[],
  expected: bigint,
  proposed: readonly ProposedEvent[],
): Decision {
  if (proposed.length === 0) return { kind: 'wrong' };
  const start = Number(expected + 1n);
  const matches = proposed.every((event, index) => events[start + index]?.id === event.id);
  return matches ? { kind: 'idempotent', last: events[start + proposed.length - 1]! } : { kind: 'wrong' };
}
