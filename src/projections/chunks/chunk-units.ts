import { tokenCount } from '../../infrastructure/embeddings/tokens.js';
import type { ChunkerConfig } from './chunker-config.js';
import { hasLongRun, LONG_RUN, sentences, words } from './text-ranges.js';

/**
 * Units are what chunks are packed from: a paragraph if it fits in maxTokens, else its sentences, else their
 * words, else character windows of a word. Each is counted once here, so that packing can estimate a chunk's
 * tokens without counting it.
 */
export interface Unit {
  start: number;
  end: number;
  /** tokenCount(text.slice(start, end)), exactly. */
  tokens: number;
  /** A character window of a word: always a chunk of its own (gluing windows would make a long run). */
  solo: boolean;
}

export const PARAGRAPH = 0;
const SENTENCE = 1;
const WORD = 2;
type Level = typeof PARAGRAPH | typeof SENTENCE | typeof WORD;

/** A paragraph of more than this many characters per maxTokens is counted sentence by sentence first. */
const LARGE_PARAGRAPH = 4;

/** How far one join between sentences is assumed to be able to lower a token count, at most. */
const JOIN_ALLOWANCE = 3;

/** Character windows of an over-long word are at most this long (the tokenizer's cost is quadratic in it). */
const MAX_WINDOW_CHARS = 4000;

/** Appends the units of the trimmed range [start, end): itself if it fits, else its parts one level down. */
export function addUnits(
  text: string,
  start: number,
  end: number,
  level: Level,
  config: ChunkerConfig,
  out: Unit[],
) {
  if (level === WORD && end - start > LONG_RUN) {
    addWindows(text, start, end, undefined, config, out);
    return;
  }
  // A range with a long run is never counted whole (the tokenizer would take seconds): it is split first.
  const longRun = level !== WORD && hasLongRun(text, start, end);
  if (level === PARAGRAPH && !longRun && end - start > LARGE_PARAGRAPH * config.maxTokens) {
    addLargeParagraph(text, start, end, config, out);
    return;
  }
  let tokens: number | undefined;
  if (!longRun) {
    tokens = tokenCount(text.slice(start, end));
    if (tokens <= config.maxTokens) {
      out.push({ start, end, tokens, solo: false });
      return;
    }
  }
  if (level === WORD) addWindows(text, start, end, tokens, config, out);
  else addParts(text, start, end, level, config, out);
}

/** The units of the sentences of a paragraph, or of the words of a sentence, that does not fit. */
function addParts(
  text: string,
  start: number,
  end: number,
  level: typeof PARAGRAPH | typeof SENTENCE,
  config: ChunkerConfig,
  out: Unit[],
) {
  let next: Level = level === PARAGRAPH ? SENTENCE : WORD;
  let parts = level === PARAGRAPH ? sentences(text, start, end) : words(text, start, end);
  if (next === SENTENCE && parts.length === 1) {
    // One sentence is the paragraph itself: go straight to its words rather than count it again.
    next = WORD;
    parts = words(text, start, end);
  }
  for (const [s, e] of parts) addUnits(text, s, e, next, config, out);
}

/**
 * A paragraph long enough to be over the maximum: its sentences are counted first (they are needed if it is
 * over), and the whole only if their sum says it could fit. A join between two sentences can lower the count
 * (" word" may be one token where "word" is two), hence the allowance per join.
 */
function addLargeParagraph(text: string, start: number, end: number, config: ChunkerConfig, out: Unit[]) {
  const parts: Unit[] = [];
  for (const [s, e] of sentences(text, start, end)) addUnits(text, s, e, SENTENCE, config, parts);
  let sum = 0;
  for (const part of parts) sum += part.solo ? Infinity : part.tokens;
  if (sum - JOIN_ALLOWANCE * (parts.length - 1) <= config.maxTokens) {
    const tokens = parts.length === 1 ? parts[0]!.tokens : tokenCount(text.slice(start, end));
    if (tokens <= config.maxTokens) {
      out.push({ start, end, tokens, solo: false });
      return;
    }
  }
  for (const part of parts) out.push(part);
}

/**
 * Windows of at most targetTokens (maxTokens for a single character) over a word with no whitespace, sized
 * from the characters per token seen so far and shrunk until they fit; never inside a surrogate pair.
 */
function addWindows(
  text: string,
  start: number,
  end: number,
  knownTokens: number | undefined,
  config: ChunkerConfig,
  out: Unit[],
) {
  const limit = config.targetTokens;
  let charsPerToken = knownTokens ? (end - start) / knownTokens : 4;
  let pos = start;
  while (pos < end) {
    let size = Math.min(end - pos, MAX_WINDOW_CHARS, Math.max(1, Math.floor(limit * charsPerToken)));
    size = keepPairs(text, pos, end, size);
    let tokens = tokenCount(text.slice(pos, pos + size));
    while (tokens > limit && !isOneCharacter(text, pos, size)) {
      // Aim a little under the proportional size: counts do not scale exactly, and each retry costs a count.
      const smaller = Math.min(size - 1, Math.floor(((size * limit) / tokens) * 0.95));
      size = keepPairs(text, pos, end, Math.max(1, smaller));
      tokens = tokenCount(text.slice(pos, pos + size));
    }
    out.push({ start: pos, end: pos + size, tokens, solo: true });
    if (tokens > 0) charsPerToken = size / tokens;
    pos += size;
  }
}

/** `size`, moved so that the window [pos, pos + size) does not end between the halves of a surrogate pair. */
function keepPairs(text: string, pos: number, end: number, size: number): number {
  const last = text.charCodeAt(pos + size - 1);
  if (last >= 0xd800 && last <= 0xdbff && pos + size < end) return size > 1 ? size - 1 : size + 1;
  return size;
}

function isOneCharacter(text: string, pos: number, size: number): boolean {
  return size === 1 || (size === 2 && text.codePointAt(pos)! > 0xffff);
}
