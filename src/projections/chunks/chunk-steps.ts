import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { ProjectionStep } from '../../infrastructure/projections/projection.js';
import type { Prepared, PreparedBatch, PreparedVersion } from './chunk-preparation.js';

/**
 * A prepared batch in steps of at most `budget` chunks (an event without chunks counts as one): the projector
 * applies each in its own transaction (AsyncProjection.steps). A version with more chunks than the budget is
 * written in pieces, in order; each piece closes the earlier versions again (a no-op after the first) and
 * inserts its own chunks, as a later delivery of the whole version would. Until its last piece commits, a
 * search sees that version partly: the async read model's lag, seen inside one document.
 */
export function chunkSteps(
  events: readonly RecordedEvent[],
  batch: PreparedBatch,
  budget: number,
): ProjectionStep[] {
  const steps: ProjectionStep[] = [];
  let step = open();
  const add = (event: RecordedEvent, size: number, prepared: Prepared | undefined) => {
    if (step.size > 0 && step.size + size > budget) {
      steps.push(close(step, batch));
      step = open();
    }
    step.events.push(event);
    if (prepared) step.byEvent.set(event.eventId, prepared);
    step.size += size;
  };
  for (const event of events) {
    const p = batch.byEvent.get(event.eventId);
    if (p?.kind !== 'version') add(event, 1, p);
    else
      for (const piece of pieces(p, Math.max(1, budget))) add(event, Math.max(1, piece.chunks.length), piece);
  }
  if (step.events.length > 0) steps.push(close(step, batch));
  return steps;
}

function open() {
  return { events: [] as RecordedEvent[], byEvent: new Map() as PreparedBatch['byEvent'], size: 0 };
}

function close(step: ReturnType<typeof open>, batch: PreparedBatch): ProjectionStep {
  // Every step gets the batch's saved hashes: a step takes out of the cache those of the rows it inserts
  // (chunk-rows.ts), so a crash between steps leaves the rest's vectors saved.
  const prepared: PreparedBatch = { byEvent: step.byEvent, saved: batch.saved };
  return { events: step.events, prepared };
}

/** The version's chunks, `size` at a time, with their texts and vectors (chunk indexes are kept). */
function pieces(p: PreparedVersion, size: number): PreparedVersion[] {
  if (p.chunks.length <= size) return [p];
  const out: PreparedVersion[] = [];
  for (let from = 0; from < p.chunks.length; from += size) {
    const to = from + size;
    const slice = { chunks: p.chunks.slice(from, to), texts: p.texts.slice(from, to) };
    out.push({ ...p, ...slice, vectors: p.vectors.slice(from, to) });
  }
  return out;
}
