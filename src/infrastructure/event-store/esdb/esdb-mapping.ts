import {
  NO_STREAM,
  START,
  type AppendExpectedRevision,
  type Position as EsdbPosition,
} from '@eventstore/db-client';
import type { ExpectedVersion } from '../errors.js';
import { uuidFrom } from '../canonical-json.js';
import { formatPosition, parsePosition } from '../position.js';

/**
 * How the port's terms map onto EventStoreDB's.
 * - Versions count events from 1 (a stream at version 3 holds 3 events); revisions number them from 0, so a stream
 *   at version v has its last event at revision v − 1, and "no events" is `no_stream`.
 * - The port's position is an opaque `a.b` string compared as two numbers in order: `commit.prepare` of the event's
 *   place in `$all`, which EventStoreDB orders the same way.
 */
export function expectedRevision(expected: number | 'no_stream'): AppendExpectedRevision {
  return expected === 'no_stream' || expected === 0 ? NO_STREAM : BigInt(expected - 1);
}

export function versionOf(revision: bigint | 'no_stream'): number {
  return revision === 'no_stream' ? 0 : Number(revision) + 1;
}

export function toPosition(position: EsdbPosition): string {
  return formatPosition({ tx: position.commit, seq: position.prepare });
}

export function fromPosition(position: string | undefined): EsdbPosition | typeof START {
  if (!position) return START;
  const { tx, seq } = parsePosition(position);
  return { commit: tx, prepare: seq };
}

/**
 * The id of the i-th event of an append made with an idempotency key: the same on every retry, so that the server
 * recognises a re-sent append at the same expected revision and answers it without writing again.
 */
export function deterministicEventId(idempotencyKey: string, streamId: string, index: number): string {
  return uuidFrom(idempotencyKey, streamId, String(index));
}

/** EventStoreDB's own streams and events ($-prefixed) are not the application's. */
export const isSystemEvent = (type: string): boolean => type.startsWith('$');

export function isExpected(expected: ExpectedVersion): expected is number | 'no_stream' {
  return expected !== 'any';
}
