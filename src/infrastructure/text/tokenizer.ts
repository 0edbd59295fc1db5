import { fold } from './unicode-fold.js';
import { wordInfo, type WordInfo } from './word-info.js';

/**
 * Tokens: runs of letters/digits of the Unicode-folded text. Hyphen/slash compounds and letter/digit runs
 * ("IL-6", "IL6", "TNF-α", "non-small-cell", "p53") give their parts, the last part carrying the joined form
 * ("il6"); decimals ("0.05", "1,000") stay whole. Sentence punctuation starts a new sentence (word pairs do
 * not cross it).
 */
export interface Token {
  info: WordInfo;
  /** Number of uppercase letters in the original token. */
  upper: number;
  sentenceStart: boolean;
  /** The first part of a hyphen compound. */
  compoundStart?: boolean;
  /** The joined form of the hyphen compound this token ends, if any. */
  joined?: string;
}

interface Compound {
  /** Lowercased parts. */
  parts: string[];
  /** Uppercase letters of each part. */
  uppers: number[];
  /** Index just after the compound. */
  end: number;
}

export function tokenize(raw: string): Token[] {
  const text = fold(raw);
  const tokens: Token[] = [];
  let i = 0;
  let sentenceStart = true;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (!isWordChar(c, text, i)) {
      if (endsSentence(c)) sentenceStart = true;
      i++;
      continue;
    }
    const { parts, uppers, end } = readCompound(text, i);
    i = end;
    for (let p = 0; p < parts.length; p++) {
      const tok: Token = { info: wordInfo(parts[p]!), upper: uppers[p]!, sentenceStart };
      if (p === 0 && parts.length > 1) tok.compoundStart = true;
      if (p === parts.length - 1 && parts.length > 1) tok.joined = parts.join('');
      tokens.push(tok);
      sentenceStart = false;
    }
  }
  return tokens;
}

/** A compound from `start` (a word character): parts joined by '-' or '/' without spaces. */
function readCompound(text: string, start: number): Compound {
  const compound: Compound = { parts: [], uppers: [], end: start };
  let i = start;
  for (;;) {
    const { end, upper } = readPart(text, i);
    splitLettersAndDigits(text, i, end, upper, compound);
    i = end;
    const c = text.charCodeAt(i);
    if (i + 1 < text.length && (c === 45 || c === 47) && isWordChar(text.charCodeAt(i + 1), text, i + 1)) {
      i++;
      continue;
    }
    compound.end = i;
    return compound;
  }
}

/** A run of word characters from `start`, with the decimals it holds ("0.05", "1,000"). */
function readPart(text: string, start: number): { end: number; upper: number } {
  const n = text.length;
  let i = start;
  let upper = 0;
  while (i < n) {
    const d = text.charCodeAt(i);
    if (isWordChar(d, text, i)) {
      if (d >= 65 && d <= 90) upper++;
      i++;
    } else if (
      isSeparator(d) &&
      i > start &&
      isDigit(text.charCodeAt(i - 1)) &&
      i + 1 < n &&
      isDigit(text.charCodeAt(i + 1))
    )
      i++;
    else break;
  }
  return { end: i, upper };
}

/** Letters and digits are parts of their own too: "IL6" is "IL-6", "p53" is "p-53" (decimals stay whole). */
function splitLettersAndDigits(text: string, start: number, end: number, upper: number, into: Compound) {
  let from = start;
  for (let k = start + 1; k <= end; k++) {
    if (k < end && isDigit(text.charCodeAt(k)) === isDigit(text.charCodeAt(k - 1))) continue;
    if (k < end && isSeparator(text.charCodeAt(k))) continue;
    if (k < end && isSeparator(text.charCodeAt(k - 1))) continue;
    const part = text.slice(from, k);
    into.parts.push(part.toLowerCase());
    into.uppers.push(from === start && k === end ? upper : countUpper(part));
    from = k;
  }
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function isWordChar(c: number, text: string, i: number): boolean {
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
  return LETTER_OR_DIGIT.test(text[i]!);
}

/** . ! ? ; : ( ) [ ] and newlines end a sentence for word pairs. */
function endsSentence(c: number): boolean {
  return (
    c === 46 ||
    c === 33 ||
    c === 63 ||
    c === 59 ||
    c === 58 ||
    c === 40 ||
    c === 41 ||
    c === 91 ||
    c === 93 ||
    c === 10
  );
}

/** '.' or ',' (inside a number). */
function isSeparator(c: number): boolean {
  return c === 46 || c === 44;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function countUpper(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) n++;
  }
  return n;
}
