import type { Snapshot } from '../../domain/document/document.js';
import { tokenCount } from '../../infrastructure/embeddings/tokens.js';

/**
 * Splits a document version's text into chunks for embedding: structure-aware (a chunk never spans a
 * heading), greedy up to `targetTokens`, with an overlap of whole trailing units, and a hard maximum of
 * `maxTokens` that holds whatever the input (tokens are cl100k_base, counted on each chunk's actual text).
 *
 * Units, from coarse to fine: paragraphs (split on blank lines); sentences of a paragraph over the maximum;
 * words of a sentence still over it; and, as a last resort, character windows of a single "word" over it (a
 * base64 blob). Each unit is counted once; a chunk of several units is counted once more, since BPE counts do
 * not add up across a join, and shrunk if it went over.
 *
 * The BPE tokenizer is quadratic in the length of a pre-tokenizer piece (a 50,000-character run of letters or
 * of spaces takes seconds), so text with a run of more than LONG_RUN characters is never counted whole: it is
 * split down first, and long runs of whitespace between units are never packed into one chunk.
 */

/** Sizes in cl100k_base tokens: chunks aim at targetTokens and never exceed maxTokens. */
export interface ChunkerConfig {
  targetTokens: number;
  overlapTokens: number;
  maxTokens: number;
}

export const DEFAULT_CHUNKER_CONFIG: ChunkerConfig = Object.freeze({
  targetTokens: 256,
  overlapTokens: 32,
  maxTokens: 512,
});

export interface Chunk {
  /** 0..n-1, in text order. */
  index: number;
  /** Exactly `text.slice(startChar, endChar)`. */
  content: string;
  startChar: number;
  endChar: number;
  /** `tokenCount(content)`, never more than `maxTokens`. */
  tokens: number;
  /** Heading path of the section the chunk is in ("Methods > Dosing"); absent before the first heading. */
  section?: string;
  /** PDFs: the page `startChar` is on. */
  page?: number;
}

export type ChunkerInput = Pick<Snapshot, 'content' | 'sections' | 'pages'>;

/**
 * Bump when the algorithm (or the tokenizer behind `tokenCount`) changes in a way that can change any chunk:
 * stored chunks made by another version must be rebuilt.
 */
const ALGORITHM = 'chunker-v2';

/** One character is at most 4 UTF-8 bytes, so at most 4 tokens: the least maximum that can always hold. */
const MIN_MAX_TOKENS = 4;

/** Runs (of non-whitespace, or of whitespace) longer than this are never handed to the tokenizer whole. */
const LONG_RUN = 1000;

/** A paragraph of more than this many characters per maxTokens is counted sentence by sentence first. */
const LARGE_PARAGRAPH = 4;

/** How far one join between sentences is assumed to be able to lower a token count, at most. */
const JOIN_ALLOWANCE = 3;

/** Character windows of an over-long word are at most this long (the tokenizer's cost is quadratic in it). */
const MAX_WINDOW_CHARS = 4000;

/**
 * Identifies the chunker's output for `config` ("chunker-v1:256/32/512"): equal versions make equal chunks
 * from equal input, so stored chunks of another version need rebuilding. Throws on an invalid config.
 */
export function chunkerVersion(config: ChunkerConfig): string {
  const { targetTokens, overlapTokens, maxTokens } = validateChunkerConfig(config);
  return `${ALGORITHM}:${targetTokens}/${overlapTokens}/${maxTokens}`;
}

/** `config` if it is usable: integers with 0 <= overlapTokens < targetTokens <= maxTokens, maxTokens >= 4. */
export function validateChunkerConfig(config: ChunkerConfig): ChunkerConfig {
  const { targetTokens, overlapTokens, maxTokens } = config;
  for (const [name, value] of Object.entries({ targetTokens, overlapTokens, maxTokens })) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new Error(`chunker config: ${name} must be an integer, got ${String(value)}`);
    }
  }
  if (targetTokens < 1) throw new Error(`chunker config: targetTokens must be positive, got ${targetTokens}`);
  if (maxTokens < MIN_MAX_TOKENS) {
    throw new Error(
      `chunker config: maxTokens must be at least ${MIN_MAX_TOKENS} (one character can take 4 tokens), ` +
        `got ${maxTokens}`,
    );
  }
  if (overlapTokens < 0) {
    throw new Error(`chunker config: overlapTokens must not be negative, got ${overlapTokens}`);
  }
  if (overlapTokens >= targetTokens) {
    throw new Error(
      `chunker config: overlapTokens (${overlapTokens}) must be less than targetTokens (${targetTokens})`,
    );
  }
  if (targetTokens > maxTokens) {
    throw new Error(
      `chunker config: targetTokens (${targetTokens}) must not be more than maxTokens (${maxTokens})`,
    );
  }
  return config;
}

/** The chunks of `input.content`, in order; [] for empty or whitespace-only text. */
export function chunkText(input: ChunkerInput, config: ChunkerConfig = DEFAULT_CHUNKER_CONFIG): Chunk[] {
  validateChunkerConfig(config);
  const text = input.content;
  const pages = [...(input.pages ?? [])].sort((a, b) => a.startChar - b.startChar);
  const chunks: Chunk[] = [];
  for (const segment of segments(text, input.sections ?? [])) {
    const units: Unit[] = [];
    for (const [start, end] of paragraphs(text, segment.start, segment.end)) {
      addUnits(text, start, end, PARAGRAPH, config, units);
    }
    for (const [first, last, tokens] of pack(text, units, config)) {
      const startChar = units[first]!.start;
      const endChar = units[last]!.end;
      const page = pageAt(pages, startChar);
      chunks.push({
        index: chunks.length,
        content: text.slice(startChar, endChar),
        startChar,
        endChar,
        tokens,
        ...(segment.path !== undefined ? { section: segment.path } : {}),
        ...(page !== undefined ? { page } : {}),
      });
    }
  }
  return chunks;
}

// ---- sections -------------------------------------------------------------------------------------------

interface Segment {
  start: number;
  end: number;
  path?: string;
  title?: string;
}

/** Characters a heading line may have besides its title ("## ", "2.3.1 ", a trailing colon…). */
const HEADING_MARKUP = 16;

/**
 * The text before the first heading, then one segment per heading up to the next heading of any level. A
 * segment that is only its heading line (a heading followed at once by another: "# Methods" then "## Dosing")
 * is merged into the next one: a chunk of a bare heading matches every query on its words and says nothing.
 * The merged chunk has the next segment's path, which keeps the heading when the next is a subsection.
 */
function segments(text: string, sections: NonNullable<ChunkerInput['sections']>): Segment[] {
  const result = headingSegments(text, sections);
  for (let i = result.length - 2; i >= 0; i--) {
    if (!isHeadingOnly(text, result[i]!)) continue;
    result[i + 1]!.start = result[i]!.start;
    result.splice(i, 1);
  }
  return result;
}

function isHeadingOnly(text: string, segment: Segment): boolean {
  if (segment.title === undefined) return false;
  const content = text.slice(segment.start, segment.end).trim();
  return !content.includes('\n') && content.length <= segment.title.trim().length + HEADING_MARKUP;
}

function headingSegments(text: string, sections: NonNullable<ChunkerInput['sections']>): Segment[] {
  const clamp = (offset: number) => Math.min(Math.max(Math.trunc(offset) || 0, 0), text.length);
  const sorted = sections
    .map((s) => ({ level: s.level, title: s.title, startChar: clamp(s.startChar) }))
    .sort((a, b) => a.startChar - b.startChar);
  const result: Segment[] = [{ start: 0, end: sorted[0]?.startChar ?? text.length }];
  const stack: Array<{ level: number; title: string }> = [];
  sorted.forEach((section, k) => {
    while (stack.length > 0 && stack[stack.length - 1]!.level >= section.level) stack.pop();
    stack.push(section);
    result.push({
      start: section.startChar,
      end: sorted[k + 1]?.startChar ?? text.length,
      path: stack.map((s) => s.title).join(' > '),
      title: section.title,
    });
  });
  return result.filter((s) => s.end > s.start);
}

function pageAt(pages: NonNullable<ChunkerInput['pages']>, offset: number): number | undefined {
  let lo = 0;
  let hi = pages.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pages[mid]!.startChar <= offset) {
      found = pages[mid]!.page;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

// ---- units ----------------------------------------------------------------------------------------------

interface Unit {
  start: number;
  end: number;
  /** tokenCount(text.slice(start, end)), exactly. */
  tokens: number;
  /** A character window of a word: always a chunk of its own (gluing windows would make a long run). */
  solo: boolean;
}

const PARAGRAPH = 0;
const SENTENCE = 1;
const WORD = 2;
type Level = typeof PARAGRAPH | typeof SENTENCE | typeof WORD;

/** Appends the units of the trimmed range [start, end): itself if it fits, else its parts one level down. */
function addUnits(
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
  if (level === WORD) {
    addWindows(text, start, end, tokens, config, out);
    return;
  }
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

// ---- splitting ------------------------------------------------------------------------------------------

type Range = [start: number, end: number];

/** JavaScript's \s, the whitespace that String.prototype.trim removes. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** [start, end) without leading and trailing whitespace, or undefined if nothing is left. */
function trimmed(text: string, start: number, end: number): Range | undefined {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end > start ? [start, end] : undefined;
}

// A blank line: a newline, then only non-newline whitespace, then a newline.
const BLANK_LINE = /\n[^\S\n]*\n/g;

function paragraphs(text: string, start: number, end: number): Range[] {
  const result: Range[] = [];
  let pos = start;
  while (pos < end) {
    BLANK_LINE.lastIndex = pos;
    const match = BLANK_LINE.exec(text);
    const stop = match && match.index < end ? match.index : end;
    const range = trimmed(text, pos, stop);
    if (range) result.push(range);
    pos = match && match.index < end ? BLANK_LINE.lastIndex : end;
  }
  return result;
}

const CLOSERS = new Set([0x22, 0x27, 0x29, 0x5d, 0x7d, 0x201d, 0x2019, 0xbb, 0x300d, 0x300f, 0xff09]);

/** . ! ? → 1; 。！？ (scripts without spaces) → 2; else 0. */
function sentenceEnd(code: number): number {
  if (code === 0x2e || code === 0x21 || code === 0x3f) return 1;
  if (code === 0x3002 || code === 0xff01 || code === 0xff1f) return 2;
  return 0;
}

/**
 * Sentences: one ends after a run of . ! ? (and closing quotes or brackets) followed by whitespace, or after
 * 。！？ with or without whitespace.
 */
function sentences(text: string, start: number, end: number): Range[] {
  const result: Range[] = [];
  let from = start;
  let i = start;
  while (i < end) {
    const kind = sentenceEnd(text.charCodeAt(i));
    if (kind === 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < end && sentenceEnd(text.charCodeAt(j)) !== 0) j++;
    while (j < end && CLOSERS.has(text.charCodeAt(j))) j++;
    if (j < end && (kind === 2 || isSpace(text.charCodeAt(j)))) {
      const range = trimmed(text, from, j);
      if (range) result.push(range);
      from = j;
    }
    i = j;
  }
  const range = trimmed(text, from, end);
  if (range) result.push(range);
  return result;
}

function words(text: string, start: number, end: number): Range[] {
  const result: Range[] = [];
  let i = start;
  while (i < end) {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    const from = i;
    while (i < end && !isSpace(text.charCodeAt(i))) i++;
    if (i > from) result.push([from, i]);
  }
  return result;
}

/** Whether [start, end) has a run of whitespace or of non-whitespace longer than LONG_RUN. */
function hasLongRun(text: string, start: number, end: number): boolean {
  if (end - start <= LONG_RUN) return false;
  let run = 0;
  let space = false;
  for (let i = start; i < end; i++) {
    const s = isSpace(text.charCodeAt(i));
    run = s === space ? run + 1 : 1;
    space = s;
    if (run > LONG_RUN) return true;
  }
  return false;
}

// ---- packing --------------------------------------------------------------------------------------------

/**
 * Greedy packing of one segment's units into [first, last, tokens] chunks. A chunk takes units while the
 * estimate (unit counts plus joins) stays within targetTokens, then its text is counted and, if over
 * maxTokens, shrunk. The next chunk starts with whole trailing units of this one worth at most overlapTokens.
 */
function pack(text: string, units: Unit[], config: ChunkerConfig): Array<[number, number, number]> {
  const { targetTokens, overlapTokens, maxTokens } = config;
  const n = units.length;
  // cost[k]: estimated tokens of units 0..k-1 with the joins between them, so that units a..b cost
  // cost[b + 1] - cost[a] - join[a].
  const cost = new Float64Array(n + 1);
  const join = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    join[k] = k === 0 ? 0 : joinCost(text, units[k - 1]!.end, units[k]!.start, maxTokens);
    cost[k + 1] = cost[k]! + join[k]! + units[k]!.tokens;
  }
  const estimate = (a: number, b: number) => cost[b + 1]! - cost[a]! - join[a]!;
  const measure = (a: number, b: number) =>
    a === b ? units[a]!.tokens : tokenCount(text.slice(units[a]!.start, units[b]!.end));

  const result: Array<[number, number, number]> = [];
  let first = 0; // the chunk's first unit, overlap included
  let fresh = 0; // its first unit not in the previous chunk
  while (fresh < n) {
    if (units[fresh]!.solo) {
      result.push([fresh, fresh, units[fresh]!.tokens]);
      first = fresh = fresh + 1;
      continue;
    }
    while (first < fresh && estimate(first, fresh) > maxTokens) first++;
    let last = fresh;
    while (last + 1 < n && !units[last + 1]!.solo && estimate(first, last + 1) <= targetTokens) last++;
    let tokens = measure(first, last);
    while (tokens > maxTokens) {
      // Over by `excess`: drop about that much from the end, else (one fresh unit left) from the overlap.
      const excess = tokens - maxTokens;
      if (last > fresh) {
        const keep = cost[last + 1]! - excess;
        do last--;
        while (last > fresh && cost[last + 1]! > keep);
      } else {
        first++;
      }
      tokens = measure(first, last);
    }
    result.push([first, last, tokens]);

    fresh = last + 1;
    first = fresh;
    if (overlapTokens > 0 && fresh < n && !units[fresh]!.solo) {
      let from = last + 1;
      while (from - 1 > result[result.length - 1]![0] && estimate(from - 1, last) <= overlapTokens) from--;
      while (from <= last && measure(from, last) > overlapTokens) from++;
      first = from;
    }
  }
  return result;
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
