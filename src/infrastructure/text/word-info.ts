import { bpeRank } from './bpe-prior.js';
import { hashString, SEED_UNIGRAM } from './hashing.js';
import { americanize } from './spellings.js';
import { porterStem } from './stemmer.js';
import { COMMON_STEMS, STOPWORDS } from './word-lists.js';

/** What the embedder needs to know of a word, computed once per distinct lowercased word. */
export interface WordInfo {
  /** The word with American spelling. */
  word: string;
  /** Its Porter stem (the word itself for stopwords). */
  stem: string;
  wordHash: number;
  stemHash: number;
  stop: boolean;
  /** A frequent general or academic word (weak evidence of topic). */
  common: boolean;
  /** Only digits and decimal separators. */
  numeric: boolean;
  /** Digits and letters. */
  alnum: boolean;
  /** The largest cl100k_base rank among the BPE tokens of " " + the lowercased word, and their number. */
  bpeRank: number;
  bpeTokens: number;
}

/** Bounds the memo: a stream of unique tokens (ids, numbers) must not grow it without end. */
const WORD_CACHE_LIMIT = 50_000;
const wordCache = new Map<string, WordInfo>();

/** The information of a lowercased word (memoised: a pure function of the word). */
export function wordInfo(lower: string): WordInfo {
  let info = wordCache.get(lower);
  if (info) return info;
  const word = americanize(lower);
  const stop = STOPWORDS.has(lower) || STOPWORDS.has(word);
  const stem = stop ? word : porterStem(word);
  const digits = countDigits(word);
  const bpe = bpeRank(lower);
  info = {
    bpeRank: bpe.rank,
    bpeTokens: bpe.tokens,
    word,
    stem,
    wordHash: hashString(word, SEED_UNIGRAM),
    stemHash: hashString(stem, SEED_UNIGRAM),
    stop,
    common: COMMON_STEMS.has(stem),
    numeric: digits > 0 && digits === countDigitsOrPunct(word),
    alnum: digits > 0 && digits < word.length && digits !== countDigitsOrPunct(word),
  };
  if (wordCache.size >= WORD_CACHE_LIMIT) wordCache.clear();
  wordCache.set(lower, info);
  return info;
}

function countDigits(w: string): number {
  let n = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Digits, '.' and ',' (the decimal and thousands separators a numeric token may hold). */
function countDigitsOrPunct(w: string): number {
  let n = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 46 || c === 44) n++;
  }
  return n;
}
