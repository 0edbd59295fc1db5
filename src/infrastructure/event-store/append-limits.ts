import type { AppendItem } from './event-store.js';

/** Limits of one append, the same for every store, checked before anything is written. */
export const MAX_STREAM_ID = 200;
export const MAX_EVENTS_PER_APPEND = 10_000;

export function checkBatch(items: readonly AppendItem[]): void {
  const total = items.reduce((n, item) => n + item.events.length, 0);
  if (items.length === 0 || total > MAX_EVENTS_PER_APPEND)
    throw new Error(`a batch takes 1..${MAX_EVENTS_PER_APPEND} events`);
  for (const { streamId, events } of items) {
    if (!streamId || streamId.length > MAX_STREAM_ID)
      throw new Error(`stream id must be 1..${MAX_STREAM_ID} characters`);
    if (events.length === 0) throw new Error(`an append takes 1..${MAX_EVENTS_PER_APPEND} events`);
  }
  if (new Set(items.map((i) => i.streamId)).size !== items.length)
    throw new Error('a batch appends to each stream at most once');
}
