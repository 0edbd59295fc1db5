/**
 * A statement's pattern: its text with every literal and parameter made a `?`, comments dropped and whitespace
 * collapsed, so that `WHERE id = 1` and `WHERE id = $1` and `WHERE id = 2` are one line of the report, as
 * pg_stat_statements groups them. Lists of placeholders (`IN (1, 2, 3)`, multi-row `VALUES`) become one
 * placeholder each, so that their length does not split a pattern either. Quoted identifiers are kept as they are.
 */

/** Longer patterns are cut here: the store holds a bounded number of them, each of bounded size. */
export const MAX_PATTERN_CHARS = 2_000;

const IDENTIFIER = /[\p{L}\p{N}_$]/u;

export function statementPattern(text: string): string {
  const out: string[] = [];
  let length = 0;
  const emit = (piece: string) => {
    out.push(piece);
    length += piece.length;
  };
  let i = 0;
  while (i < text.length && length <= MAX_PATTERN_CHARS) {
    const end = skipNonToken(text, i);
    if (end > i) {
      if (length > 0) emit(' ');
      i = end;
      continue;
    }
    const [token, next] = readToken(text, i);
    emit(token);
    i = next;
  }
  const pattern = collapseLists(out.join('').trim());
  return pattern.length > MAX_PATTERN_CHARS ? `${pattern.slice(0, MAX_PATTERN_CHARS)}…` : pattern;
}

/** Whitespace and comments from `i`: where they end (`i` itself when there are none). */
function skipNonToken(text: string, i: number): number {
  let j = i;
  for (;;) {
    if (/\s/.test(text[j] ?? '')) j++;
    else if (text.startsWith('--', j)) j = lineEnd(text, j);
    else if (text.startsWith('/*', j)) j = commentEnd(text, j);
    else return j;
  }
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf('\n', i);
  return end < 0 ? text.length : end + 1;
}

/** Block comments nest in PostgreSQL. */
function commentEnd(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    if (text.startsWith('/*', j)) depth++;
    else if (text.startsWith('*/', j)) depth--;
    else continue;
    if (depth === 0) return j + 2;
    j++; // the second character of the marker
  }
  return text.length;
}

/** The token at `i` as it goes into the pattern, and where the next one starts. */
function readToken(text: string, i: number): [string, number] {
  const c = text[i]!;
  const before = text[i - 1] ?? ' ';
  if (c === "'") return ['?', quotedEnd(text, i, "'")];
  if ((c === 'E' || c === 'e' || c === 'B' || c === 'b' || c === 'X' || c === 'x') && text[i + 1] === "'")
    if (!IDENTIFIER.test(before)) return ['?', quotedEnd(text, i + 1, "'")];
  if (c === '"') {
    const end = quotedEnd(text, i, '"');
    return [text.slice(i, end), end];
  }
  if (c === '$') {
    const param = /^\$\d+/.exec(text.slice(i, i + 12));
    if (param && !IDENTIFIER.test(before)) return ['?', i + param[0].length];
    const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(text.slice(i, i + 64));
    if (tag && !IDENTIFIER.test(before)) {
      const close = text.indexOf(tag[0], i + tag[0].length);
      return ['?', close < 0 ? text.length : close + tag[0].length];
    }
  }
  if (/\d/.test(c) || (c === '.' && /\d/.test(text[i + 1] ?? ''))) {
    if (!IDENTIFIER.test(before) && before !== '.' && before !== '"') {
      const number = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i, i + 64))!;
      return ['?', i + number[0].length];
    }
  }
  const word = /^[\p{L}\p{N}_$]+/u.exec(text.slice(i, i + 256));
  if (word) return [word[0], i + word[0].length];
  return [c, i + 1];
}

/** The end of a quoted string or identifier opened at `i` (a doubled quote is the quote itself). */
function quotedEnd(text: string, i: number, quote: string): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\' && quote === "'" && /^[Ee]$/.test(text[i - 1] ?? '')) j++;
    else if (text[j] === quote) {
      if (text[j + 1] !== quote) return j + 1;
      j++;
    }
  }
  return text.length;
}

/** `?, ?, ?` is `?`; then `(?), (?)` (rows of VALUES) is `(?)`; both possibly spaced as the text was. */
function collapseLists(pattern: string): string {
  return pattern.replace(/\?(?:\s*,\s*\?)+/g, '?').replace(/\(\s*\?\s*\)(?:\s*,\s*\(\s*\?\s*\))+/g, '(?)');
}
