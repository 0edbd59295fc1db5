/**
 * Splitting a range of text into paragraphs, sentences or words, by character codes rather than regular
 * expressions over slices, so that a long text is never copied to be split.
 */

export type Range = [start: number, end: number];

/**
 * Runs (of non-whitespace, or of whitespace) longer than this are never handed to the tokenizer whole: its cost is
 * quadratic in the length of a pre-tokenizer piece.
 */
export const LONG_RUN = 1000;

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

export function paragraphs(text: string, start: number, end: number): Range[] {
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
export function sentences(text: string, start: number, end: number): Range[] {
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

export function words(text: string, start: number, end: number): Range[] {
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
export function hasLongRun(text: string, start: number, end: number): boolean {
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
