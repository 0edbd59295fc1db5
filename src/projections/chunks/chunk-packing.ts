import { tokenCount } from '../../infrastructure/embeddings/tokens.js';
import type { ChunkerConfig } from './chunker-config.js';
import type { Unit } from './chunk-units.js';
import { LONG_RUN } from './text-ranges.js';

/** A chunk as units first..last (overlap included) and its exact token count. */
export type PackedChunk = [first: number, last: number, tokens: number];

/**
 * Token estimates of runs of units, so that packing counts a chunk's text only once it has chosen it: BPE counts
 * do not add up across a join, but nearly, and counting every candidate would be quadratic.
 */
interface Costs {
  /** cost[k]: estimated tokens of units 0..k-1 with the joins between them. */
  cost: Float64Array;
  estimate(a: number, b: number): number;
  /** Exact tokens of units a..b as one text. */
  measure(a: number, b: number): number;
}

function costs(text: string, units: Unit[], maxTokens: number): Costs {
  const n = units.length;
  // Units a..b cost cost[b + 1] - cost[a] - join[a]: the join before a is not in the chunk.
  const cost = new Float64Array(n + 1);
  const join = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    join[k] = k === 0 ? 0 : joinCost(text, units[k - 1]!.end, units[k]!.start, maxTokens);
    cost[k + 1] = cost[k]! + join[k]! + units[k]!.tokens;
  }
  return {
    cost,
    estimate: (a, b) => cost[b + 1]! - cost[a]! - join[a]!,
    measure: (a, b) => (a === b ? units[a]!.tokens : tokenCount(text.slice(units[a]!.start, units[b]!.end))),
  };
}

/**
 * Greedy packing of one segment's units into chunks. A chunk takes units while the estimate (unit counts plus
 * joins) stays within targetTokens, then its text is counted and, if over maxTokens, shrunk. The next chunk
 * starts with whole trailing units of this one worth at most overlapTokens.
 */
export function pack(text: string, units: Unit[], config: ChunkerConfig): PackedChunk[] {
  const { targetTokens, overlapTokens, maxTokens } = config;
  const n = units.length;
  const c = costs(text, units, maxTokens);
  const result: PackedChunk[] = [];
  let first = 0; // the chunk's first unit, overlap included
  let fresh = 0; // its first unit not in the previous chunk
  while (fresh < n) {
    if (units[fresh]!.solo) {
      result.push([fresh, fresh, units[fresh]!.tokens]);
      first = fresh = fresh + 1;
      continue;
    }
    while (first < fresh && c.estimate(first, fresh) > maxTokens) first++;
    let last = fresh;
    while (last + 1 < n && !units[last + 1]!.solo && c.estimate(first, last + 1) <= targetTokens) last++;
    const chunk = shrink(c, first, fresh, last, maxTokens);
    result.push(chunk);
    fresh = chunk[1] + 1;
    first = fresh;
    if (overlapTokens > 0 && fresh < n && !units[fresh]!.solo) first = overlapStart(c, chunk, overlapTokens);
  }
  return result;
}

/**
 * Units first..last, counted, and shrunk until within maxTokens. Over by `excess`, it drops about that much from
 * the end, or, with one fresh unit left, drops overlap from the start: a chunk always brings a new unit.
 */
function shrink(c: Costs, first: number, fresh: number, last: number, maxTokens: number): PackedChunk {
  let tokens = c.measure(first, last);
  while (tokens > maxTokens) {
    const excess = tokens - maxTokens;
    if (last > fresh) {
      const keep = c.cost[last + 1]! - excess;
      do last--;
      while (last > fresh && c.cost[last + 1]! > keep);
    } else {
      first++;
    }
    tokens = c.measure(first, last);
  }
  return [first, last, tokens];
}

/**
 * The first unit of the next chunk's overlap: as many trailing units of `chunk` as the estimate allows, then
 * fewer until their exact count is within overlapTokens (possibly none). Never the chunk's first unit, so that
 * chunks always move forward.
 */
function overlapStart(c: Costs, [first, last]: PackedChunk, overlapTokens: number): number {
  let from = last + 1;
  while (from - 1 > first && c.estimate(from - 1, last) <= overlapTokens) from--;
  while (from <= last && c.measure(from, last) > overlapTokens) from++;
  return from;
}

/**
 * Estimated tokens added by joining two units across the whitespace between them: none for one space (it goes
 * with the next word) or for newlines after punctuation (cl100k has tokens such as ".\n\n"), else about one.
 */
function joinCost(text: string, end: number, start: number, maxTokens: number): number {
  const length = start - end;
  if (length === 0 || (length === 1 && text.charCodeAt(end) === 0x20)) return 0;
  // A long run of whitespace between two units is a break: counting it would cost its length squared.
  if (length > LONG_RUN) return maxTokens + 1;
  if (isAsciiPunctuation(text.charCodeAt(end - 1)) && onlyNewlines(text, end, start)) return 0;
  return Math.ceil(length / 4);
}

function isAsciiPunctuation(code: number): boolean {
  return (
    (code >= 0x21 && code <= 0x2f) ||
    (code >= 0x3a && code <= 0x40) ||
    (code >= 0x5b && code <= 0x60) ||
    (code >= 0x7b && code <= 0x7e)
  );
}

function onlyNewlines(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) !== 0x0a) return false;
  return true;
}
