import { decode, vocabularySize } from 'gpt-tokenizer/encoding/cl100k_base';
import { timeSlice } from '../time-slice.js';
import { EmbeddingError, type Embedder } from './embedder.js';

/**
 * LocalEmbedder: an offline, deterministic, key-free lexical embedder (signed feature hashing), the default
 * embedder. Designed to add to PostgreSQL's english full-text search what it lacks: IDF-like weighting,
 * sub-word matching, word pairs, spelling and compound normalisation.
 *
 * Each text becomes a weighted bag of features hashed (FNV-1a + murmur3 finaliser; one bit for the sign) into
 * `dimensions` buckets and L2-normalised, so that the cosine of two vectors approximates the weighted overlap
 * of their features:
 *
 * - Tokens: runs of letters/digits. Hyphen/slash compounds and letter/digit runs ("IL-6", "IL6", "TNF-α",
 *   "non-small-cell", "p53") give their parts and the joined form ("il6"); decimals stay whole. Unicode is
 *   folded (NFKD, accents stripped, Greek letters spelled out) and British spellings mapped to American
 *   ("haemoglobin" → "hemoglobin", "tumour", "randomised", "fibre", "oestrogen").
 * - Unigrams: Porter stems of non-stopwords, with sublinear tf (1 + ln tf).
 * - Sub-words: character 3–5-grams of each stem with boundary markers, so that morphological variants and
 *   related technical terms share mass ("glycaemic" ~ "hyperglycemia").
 * - Word pairs: bigrams of consecutive content stems within a sentence (stopwords skipped).
 * - An IDF-like prior without corpus statistics: ln of the word's rank in the cl100k_base BPE vocabulary
 *   (merge order follows frequency in the tokenizer's training text; words that are not one token count as
 *   rarest), a built-in stopword list (weight 0) and list of common general/academic words (down-weighted);
 *   acronyms and compounds weigh more. (gpt-tokenizer is already a dependency, for chunk sizes.)
 *
 * Output depends only on the text and the dimension (no corpus state; the caches only memoise pure
 * functions). Texts without any word (empty, punctuation) get a fixed non-zero unit vector (every component
 * 1/sqrt(D)), never all zeros, so that cosine distance stays defined in pgvector. Texts made only of
 * stopwords are embedded from their stopwords. Bump LOCAL_EMBEDDER_NAME whenever the output changes.
 */

export interface LocalEmbedderTuning {
  /** Total weight of a term's character n-grams relative to its unigram. */
  ngramWeight: number;
  ngramMin: number;
  ngramMax: number;
  /** Drop n-grams with fewer letters than this (boundary markers not counted). */
  ngramMinLetters: number;
  /** Shortest stem that gets n-grams. */
  ngramMinWord: number;
  /** Weight of a word pair relative to the geometric mean of its words' weights. */
  bigramWeight: number;
  /** Multiplier of words in the built-in common-word list. */
  commonFactor: number;
  /** Prior by length: min(lengthMax, lengthBase + lengthSlope * length). */
  lengthBase: number;
  lengthSlope: number;
  lengthMax: number;
  /** Multiplier of acronyms (two or more capitals). */
  technicalFactor: number;
  /** Prior of pure numbers. */
  numberPrior: number;
  /** Buckets per feature (sparse JL; values scaled by 1/sqrt(probes)). */
  probes: number;
  /** Use Porter stems (else lowercased words) for unigrams and n-grams. */
  stem: boolean;
  /** Prior of the joined form of a compound relative to its most specific part. */
  compoundFactor: number;
  /** Join hyphen compounds as an extra unigram. */
  joinCompounds: boolean;
  /** Exponent of the term frequency when not logarithmic: tf^tfPower; 0 = 1 + ln tf. */
  tfPower: number;
  /** Prior from the rarity of the word in cl100k_base's BPE vocabulary (else from its length). */
  bpeIdf: boolean;
  /** ln(rank) at which the BPE prior is 0 (ranks at or below are like stopwords). */
  idfOffset: number;
  /** Extra ln-rank units per BPE token beyond the first. */
  idfPerToken: number;
  /** prior = (idf / idfScale) ^ idfPower. */
  idfScale: number;
  idfPower: number;
  /** How a stem's prior is combined over its surface forms in a text. */
  priorCombine: 'max' | 'min' | 'first';
}

export const DEFAULT_LOCAL_EMBEDDER_TUNING: Readonly<LocalEmbedderTuning> = Object.freeze({
  ngramWeight: 2,
  ngramMin: 3,
  ngramMax: 5,
  ngramMinWord: 0,
  ngramMinLetters: 0,
  bigramWeight: 0.3,
  commonFactor: 0.35,
  lengthBase: 0.2,
  lengthSlope: 0.12,
  lengthMax: 1.3,
  technicalFactor: 1.3,
  numberPrior: 0.4,
  probes: 1,
  stem: true,
  joinCompounds: true,
  compoundFactor: 1.3,
  tfPower: 0,
  bpeIdf: true,
  idfOffset: 5,
  idfPerToken: 1,
  idfScale: 5,
  idfPower: 1,
  priorCombine: 'max',
});

export interface LocalEmbedderOptions {
  /** Vector dimension, 32–4096. Default 512. */
  dimensions?: number;
  /** For benchmarks only: overrides of the feature weights (changes `space`). */
  tuning?: Partial<LocalEmbedderTuning>;
}

export const LOCAL_EMBEDDER_NAME = 'lexhash-v1';
export const DEFAULT_LOCAL_DIMENSIONS = 512;

export class LocalEmbedder implements Embedder {
  readonly space: string;
  readonly dimensions: number;
  private readonly tuning: LocalEmbedderTuning;
  private scratch = new Uint32Array(256);

  constructor(options: LocalEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? DEFAULT_LOCAL_DIMENSIONS;
    if (!Number.isInteger(dimensions) || dimensions < 32 || dimensions > 4096) {
      throw new RangeError(`LocalEmbedder dimensions must be an integer in 32..4096 (got ${dimensions})`);
    }
    this.dimensions = dimensions;
    this.tuning = { ...DEFAULT_LOCAL_EMBEDDER_TUNING, ...options.tuning };
    const custom = Object.entries(options.tuning ?? {})
      .filter(([k, v]) => DEFAULT_LOCAL_EMBEDDER_TUNING[k as keyof LocalEmbedderTuning] !== v)
      .map(([k, v]) => `${k}=${String(v)}`)
      .sort();
    this.space = `local:${LOCAL_EMBEDDER_NAME}${custom.length ? `+${custom.join(',')}` : ''}:${dimensions}`;
  }

  async embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    // Thousands of texts take seconds of CPU: let the process's other work (HTTP requests) run in between.
    const slice = timeSlice();
    for (const text of texts) {
      if (options?.signal?.aborted) throw new EmbeddingError('embedding aborted', true);
      if (typeof text !== 'string') throw new EmbeddingError('embedding input must be a string', false);
      out.push(this.embedOne(text));
      await slice();
    }
    return out;
  }

  /** Synchronous form of `embed` for one text. */
  embedOne(text: string): Float32Array {
    const t = this.tuning;
    const acc = new Float64Array(this.dimensions);
    const tokens = tokenize(text);
    let content = 0;
    for (const tok of tokens) if (!tok.info.stop) content++;
    const useStops = content === 0;

    // Term frequencies (by feature key) and bigrams, in first-occurrence order.
    const tf = new Map<string, { count: number; prior: number; key: string; ngrams: boolean }>();
    const bigrams = new Map<number, { count: number; weight: number }>();
    let prev: { hash: number; prior: number } | undefined;
    let compoundPrior = 0;
    for (const tok of tokens) {
      if (tok.sentenceStart) prev = undefined;
      const info = tok.info;
      const stop = info.stop && !useStops;
      const prior = stop ? 0 : useStops ? 1 : termPrior(info, tok.upper, t);
      if (tok.compoundStart) compoundPrior = 0;
      if (prior > compoundPrior) compoundPrior = prior;
      if (tok.joined !== undefined && t.joinCompounds && compoundPrior > 0) {
        // the joined form ("IL-6" → "il6") is the same feature as the word written without hyphens, as
        // specific as the most specific part, and without n-grams of its own (its parts have them)
        const ji = wordInfo(tok.joined);
        const jk = t.stem ? ji.stem : ji.word;
        const jp = compoundPrior * t.compoundFactor;
        const je = tf.get(jk);
        if (je) {
          je.count++;
          if (jp > je.prior) je.prior = jp;
        } else tf.set(jk, { count: 1, prior: jp, key: jk, ngrams: false });
      }
      if (stop) continue;
      const key = t.stem ? info.stem : info.word;
      const entry = tf.get(key);
      if (entry) {
        entry.count++;
        if (t.priorCombine === 'max' ? prior > entry.prior : t.priorCombine === 'min' && prior < entry.prior)
          entry.prior = prior;
        entry.ngrams = true;
      } else tf.set(key, { count: 1, prior, key, ngrams: true });
      const hash = t.stem ? info.stemHash : info.wordHash;
      if (prev !== undefined && t.bigramWeight > 0) {
        const bh = fmix(Math.imul(prev.hash, 0x9e3779b1) ^ hash ^ 0x5bd1e995);
        const w = Math.sqrt(prev.prior * prior);
        const be = bigrams.get(bh);
        if (be) {
          be.count++;
          if (w > be.weight) be.weight = w;
        } else bigrams.set(bh, { count: 1, weight: w });
      }
      prev = { hash, prior };
    }

    if (tf.size === 0) {
      acc.fill(1);
    } else {
      for (const entry of tf.values()) {
        const w = tfWeight(entry.count, t.tfPower) * entry.prior;
        this.addHashed(acc, fmix(hashString(entry.key, SEED_UNIGRAM)), w);
        const count = entry.ngrams ? this.ngramHashes(entry.key) : 0;
        if (count > 0) {
          const nw = (w * t.ngramWeight) / Math.sqrt(count);
          for (let i = 0; i < count; i++) this.addHashed(acc, this.scratch[i]!, nw);
        }
      }
      for (const [bh, be] of bigrams) {
        this.addHashed(acc, bh, tfWeight(be.count, t.tfPower) * be.weight * t.bigramWeight);
      }
    }
    let norm = 0;
    for (let i = 0; i < acc.length; i++) norm += acc[i]! * acc[i]!;
    const out = new Float32Array(this.dimensions);
    if (norm === 0) {
      out.fill(1 / Math.sqrt(this.dimensions));
      return out;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < acc.length; i++) out[i] = acc[i]! * inv;
    return out;
  }

  private addHashed(acc: Float64Array, hash: number, w: number): void {
    const probes = this.tuning.probes;
    if (probes === 1) {
      acc[(hash >>> 1) % this.dimensions]! += hash & 1 ? w : -w;
      return;
    }
    const pw = w / Math.sqrt(probes);
    let h = hash;
    for (let p = 0; p < probes; p++) {
      acc[(h >>> 1) % this.dimensions]! += h & 1 ? pw : -pw;
      h = fmix(h + 0x7f4a7c15);
    }
  }

  /** Writes the hashes of the character n-grams of `<key>` to this.scratch; returns their number. */
  private ngramHashes(key: string): number {
    const t = this.tuning;
    if (t.ngramWeight <= 0 || key.length < t.ngramMinWord) return 0;
    const len = key.length + 2;
    if (this.scratch.length < len * t.ngramMax) this.scratch = new Uint32Array(len * t.ngramMax);
    let count = 0;
    for (let i = 0; i < len; i++) {
      let h = SEED_NGRAM;
      for (let n = 1; n <= t.ngramMax && i + n <= len; n++) {
        const pos = i + n - 1;
        h = Math.imul(h ^ (pos === 0 ? 60 : pos === len - 1 ? 62 : key.charCodeAt(pos - 1)), 0x01000193);
        const letters = n - (i === 0 ? 1 : 0) - (i + n === len ? 1 : 0);
        if (n >= t.ngramMin && n < len && letters >= t.ngramMinLetters) this.scratch[count++] = fmix(h ^ n);
      }
    }
    return count;
  }
}

const WORD_CACHE_LIMIT = 50_000;
const SEED_UNIGRAM = 0x811c9dc5;
const SEED_NGRAM = 0x2f0a3c51;

function tfWeight(count: number, power: number): number {
  return power === 0 ? 1 + Math.log(count) : Math.pow(count, power);
}

function termPrior(info: WordInfo, upper: number, t: LocalEmbedderTuning): number {
  let p: number;
  if (info.numeric) p = t.numberPrior;
  else if (t.bpeIdf) {
    const idf = Math.max(0, Math.log(info.bpeRank) + t.idfPerToken * (info.bpeTokens - 1) - t.idfOffset);
    p = Math.pow(idf / t.idfScale, t.idfPower);
  } else p = Math.min(t.lengthMax, t.lengthBase + t.lengthSlope * info.word.length);
  if (info.common) p *= t.commonFactor;
  if (info.alnum || (upper >= 2 && info.word.length >= 2)) p *= t.technicalFactor;
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Hashing

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------------------
// Tokenisation

interface WordInfo {
  word: string;
  stem: string;
  wordHash: number;
  stemHash: number;
  stop: boolean;
  common: boolean;
  numeric: boolean;
  alnum: boolean;
  /** The largest cl100k_base rank among the BPE tokens of " " + the lowercased word, and their number. */
  bpeRank: number;
  bpeTokens: number;
}

interface Token {
  info: WordInfo;
  /** Number of uppercase letters in the original token. */
  upper: number;
  sentenceStart: boolean;
  /** The first part of a hyphen compound. */
  compoundStart?: boolean;
  /** The joined form of the hyphen compound this token ends, if any. */
  joined?: string;
}

const wordCache = new Map<string, WordInfo>();

/** Rank given to words that are not one cl100k_base token (about the vocabulary's size). */
const UNRANKED = 100_000;
let ranks: Map<string, number> | undefined;

/**
 * The words that are a single cl100k_base token when preceded by a space (" the", " insulin"), by lowercase
 * form, with the lowest rank of their casings. BPE merge ranks follow frequency in the tokenizer's training
 * text, so ln(rank) is a corpus-free proxy of a word's IDF. Built once, on first use (≈ 40k entries).
 */
function wordRanks(): Map<string, number> {
  if (ranks) return ranks;
  ranks = new Map();
  for (let rank = 0; rank < vocabularySize; rank++) {
    let token: string;
    try {
      token = decode([rank]);
    } catch {
      continue;
    }
    if (token.length < 2 || token.charCodeAt(0) !== 32 || !/^ [\p{L}\p{N}]+$/u.test(token)) continue;
    const word = token.slice(1).toLowerCase();
    if (!ranks.has(word)) ranks.set(word, Math.max(1, rank));
  }
  return ranks;
}

function wordInfo(lower: string): WordInfo {
  let info = wordCache.get(lower);
  if (info) return info;
  const word = americanize(lower);
  const stop = STOPWORDS.has(lower) || STOPWORDS.has(word);
  const stem = stop ? word : porterStem(word);
  let digits = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  const rank = wordRanks().get(lower);
  info = {
    bpeRank: rank ?? UNRANKED,
    bpeTokens: rank === undefined ? Math.max(2, Math.ceil(lower.length / 4)) : 1,
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

function countDigitsOrPunct(w: string): number {
  let n = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 46 || c === 44) n++;
  }
  return n;
}

const GREEK: Record<string, string> = {
  α: 'alpha',
  β: 'beta',
  γ: 'gamma',
  δ: 'delta',
  ε: 'epsilon',
  ζ: 'zeta',
  η: 'eta',
  θ: 'theta',
  ι: 'iota',
  κ: 'kappa',
  λ: 'lambda',
  μ: 'mu',
  ν: 'nu',
  ξ: 'xi',
  π: 'pi',
  ρ: 'rho',
  σ: 'sigma',
  ς: 'sigma',
  τ: 'tau',
  υ: 'upsilon',
  φ: 'phi',
  χ: 'chi',
  ψ: 'psi',
  ω: 'omega',
};

/** Folds Unicode to ASCII where it can: NFKD, accents dropped, Greek letters spelled out, dashes unified. */
function fold(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\u0000-\u007f]/.test(text)) return text;
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u00b5\u03bc]/g, 'μ')
    .replace(/[α-ω]/gi, (c) => GREEK[c.toLowerCase()] ?? c)
    .replace(/[\u2010\u2011\u2012\u2212]/g, '-')
    .replace(/[\u2013\u2014\u2015]/g, ' ');
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function isWordChar(c: number, text: string, i: number): boolean {
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
  return LETTER_OR_DIGIT.test(text[i]!);
}

function countUpper(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) n++;
  }
  return n;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function tokenize(raw: string): Token[] {
  const text = fold(raw);
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  let sentenceStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isWordChar(c, text, i)) {
      // . ! ? ; : ( ) [ ] and newlines end a sentence for word pairs
      if (
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
      )
        sentenceStart = true;
      i++;
      continue;
    }
    // a compound: parts joined by '-' or '/' (no spaces); parts may hold decimals "0.05", "1,000"
    const parts: string[] = [];
    const uppers: number[] = [];
    for (;;) {
      const start = i;
      let upper = 0;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isWordChar(d, text, i)) {
          if (d >= 65 && d <= 90) upper++;
          i++;
        } else if (
          (d === 46 || d === 44) &&
          i > start &&
          isDigit(text.charCodeAt(i - 1)) &&
          i + 1 < n &&
          isDigit(text.charCodeAt(i + 1))
        )
          i++;
        else break;
      }
      // letters and digits are parts of their own too: "IL6" is "IL-6", "p53" is "p-53"
      let from = start;
      for (let k = start + 1; k <= i; k++) {
        if (k < i && isDigit(text.charCodeAt(k)) === isDigit(text.charCodeAt(k - 1))) continue;
        if (k < i && (text.charCodeAt(k) === 46 || text.charCodeAt(k) === 44)) continue;
        if (k < i && (text.charCodeAt(k - 1) === 46 || text.charCodeAt(k - 1) === 44)) continue;
        const part = text.slice(from, k);
        parts.push(part.toLowerCase());
        uppers.push(from === start && k === i ? upper : countUpper(part));
        from = k;
      }
      if (
        i + 1 < n &&
        (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 47) &&
        isWordChar(text.charCodeAt(i + 1), text, i + 1)
      ) {
        i++;
        continue;
      }
      break;
    }
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

/** British → American spellings common in technical text (applied before stemming). */
function americanize(w: string): string {
  if (w.length < 5) return w;
  let s = w;
  if (s.startsWith('oe')) s = 'e' + s.slice(2);
  if (s.includes('ae', 1)) s = s[0] + s.slice(1).replace(/ae/g, 'e');
  if (
    s.length >= 6 &&
    /our(s|ed|ing|ite|ites|able|ably)?$/.test(s) &&
    !/(four|hour|pour|flour|tour|court)/.test(s)
  )
    s = s.replace(/our(s|ed|ing|ite|ites|able|ably)?$/, 'or$1');
  if (s.length >= 6)
    s = s.replace(
      /(is|ys)(e|es|ed|ing|ation|ations|er|ers)$/,
      (_m, a: string, b: string) => (a === 'is' ? 'iz' : 'yz') + b,
    );
  if (/[^aeiou](tre|bre)s?$/.test(s)) s = s.replace(/(t|b)re(s?)$/, '$1er$2');
  if (s.endsWith('ogue')) s = s.slice(0, -2);
  s = s.replace(/(ll)(ed|ing|er|ers)$/, 'l$2');
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Porter stemmer (M. F. Porter, 1980; the reference C implementation's variant)

function isCons(w: string, i: number): boolean {
  const c = w[i];
  if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') return false;
  if (c === 'y') return i === 0 ? true : !isCons(w, i - 1);
  return true;
}

/** The measure m of w[0..j]: the number of VC sequences. */
function measure(w: string, j: number): number {
  let n = 0;
  let i = 0;
  for (;;) {
    if (i > j) return n;
    if (!isCons(w, i)) break;
    i++;
  }
  i++;
  for (;;) {
    for (;;) {
      if (i > j) return n;
      if (isCons(w, i)) break;
      i++;
    }
    i++;
    n++;
    for (;;) {
      if (i > j) return n;
      if (!isCons(w, i)) break;
      i++;
    }
    i++;
  }
}

function hasVowel(w: string, j: number): boolean {
  for (let i = 0; i <= j; i++) if (!isCons(w, i)) return true;
  return false;
}

function doubleCons(w: string, j: number): boolean {
  return j >= 1 && w[j] === w[j - 1] && isCons(w, j);
}

/** cvc at j where the last c is not w, x or y. */
function cvc(w: string, j: number): boolean {
  if (j < 2 || !isCons(w, j) || isCons(w, j - 1) || !isCons(w, j - 2)) return false;
  const c = w[j];
  return c !== 'w' && c !== 'x' && c !== 'y';
}

const STEP2: [string, string][] = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['bli', 'ble'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
  ['logi', 'log'],
];
const STEP3: [string, string][] = [
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
];
const STEP4 = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
];

export function porterStem(word: string): string {
  if (word.length <= 2) return word;
  let w = word;
  // Step 1a
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = w.slice(0, -2);
  else if (w.endsWith('ss')) {
    /* keep */
  } else if (w.endsWith('s')) w = w.slice(0, -1);
  // Step 1b
  let extra = false;
  if (w.endsWith('eed')) {
    if (measure(w, w.length - 4) > 0) w = w.slice(0, -1);
  } else if (w.endsWith('ed') && hasVowel(w, w.length - 3)) {
    w = w.slice(0, -2);
    extra = true;
  } else if (w.endsWith('ing') && hasVowel(w, w.length - 4)) {
    w = w.slice(0, -3);
    extra = true;
  }
  if (extra) {
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e';
    else if (doubleCons(w, w.length - 1)) {
      const c = w[w.length - 1];
      if (c !== 'l' && c !== 's' && c !== 'z') w = w.slice(0, -1);
    } else if (measure(w, w.length - 1) === 1 && cvc(w, w.length - 1)) w += 'e';
  }
  // Step 1c
  if (w.endsWith('y') && hasVowel(w, w.length - 2)) w = w.slice(0, -1) + 'i';
  // Step 2
  for (const [suf, rep] of STEP2) {
    if (w.endsWith(suf)) {
      if (measure(w, w.length - suf.length - 1) > 0) w = w.slice(0, -suf.length) + rep;
      break;
    }
  }
  // Step 3
  for (const [suf, rep] of STEP3) {
    if (w.endsWith(suf)) {
      if (measure(w, w.length - suf.length - 1) > 0) w = w.slice(0, -suf.length) + rep;
      break;
    }
  }
  // Step 4: the longest matching suffix only
  let best = '';
  for (const suf of STEP4) if (suf.length > best.length && w.endsWith(suf)) best = suf;
  if (best) {
    const j = w.length - best.length - 1;
    if (measure(w, j) > 1 && (best !== 'ion' || w[j] === 's' || w[j] === 't')) w = w.slice(0, j + 1);
  }
  // Step 5
  if (w.endsWith('e')) {
    const m = measure(w, w.length - 2);
    if (m > 1 || (m === 1 && !cvc(w, w.length - 2))) w = w.slice(0, -1);
  }
  if (w.endsWith('ll') && measure(w, w.length - 1) > 1) w = w.slice(0, -1);
  return w;
}

// ---------------------------------------------------------------------------------------------------------
// Word lists

const STOPWORDS = new Set(
  `a about above after again against all am an and any are aren't as at be because been before being below
  between both but by can cannot could did do does doing down during each few for from further had has have
  having he her here hers herself him himself his how i if in into is isn't it it's its itself let me more most
  my myself no nor not of off on once only or other ought our ours ourselves out over own same she should so
  some such than that the their theirs them themselves then there these they this those through to too under
  until up very was we were what when where which while who whom why with would you your yours yourself
  yourselves also whether upon via per within without among amongst whereas thus hence however therefore
  moreover furthermore yet may might must shall will can't don't doesn't didn't won't wouldn't shouldn't
  couldn't s t d ll m re ve y etc eg ie et al vs`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** Frequent general and academic words: weak evidence of topic (down-weighted, not removed). */
const COMMON_WORDS = `able according across actually addition additional affect affected again age ago ahead
  aim aimed aims allow allowed allows almost alone along already although always analysis analyse analyze
  analysed analyzed another answer anyone anything appear appeared appears apply applied approach approaches
  appropriate approximately area areas around ask asked assess assessed associated association available
  average away back background base based basis become becomes began begin beginning behind believe best
  better beyond big bring brought call called came carried carry case cases cause caused causes certain
  change changed changes characteristic characteristics clear clearly close come comes common commonly
  compare compared comparison complete completed conclude concluded conclusion conclusions condition
  conditions conduct conducted confirm confirmed consider considered consistent contain contained contains
  context contrast contribute control controlled controls correspond corresponding could current currently
  data day days decrease decreased decreases define defined demonstrate demonstrated demonstrates describe
  described design designed despite detail detailed details determine determined develop developed
  development difference differences different directly discuss discussed due early effect effective
  effects either else end enough entire especially establish established estimate estimated evaluate
  evaluated even evidence exactly example examine examined except exist existing expect expected explain
  explained express extent fact factor factors far feature features find finding findings first five follow
  followed following form found four full fully function general generally get give given gives go goal
  going good great greater group groups growing half happen hard help high higher highest highly hold
  identified identify important importance improve improved include included includes including increase
  increased increases increasing indeed indicate indicated indicates individual information instead
  interest investigate investigated involve involved issue issues keep kind know known large larger largely
  last later lead leading least less level levels like likely limited line little long longer look low lower
  made main mainly major make makes making many mean means measure measured measures method methods might
  mostly much need needed new next nine non none note noted number numbers objective observe observed obtain
  obtained occur occurred often old one ones open order others otherwise outcome outcomes overall part
  particular particularly parts past people perform performed perhaps period place play plays point points
  possible potential potentially present presented previous previously primary probably problem problems
  process produce produced provide provided provides purpose put quite range rather rate rates reach real
  really reason recent recently reduce reduced related relative relatively remain remained remains report
  reported reports require required requires research result resulted results reveal revealed review right
  role run said say second see seem seems seen set seven several show showed shown shows side significant
  significantly similar similarly simple since single six small so some something sometimes specific
  specifically start state states still strong strongly studied studies study subsequent subsequently
  suggest suggested suggests support supported sure system systems take taken taking ten term terms test
  tested tests three thought time times today together took total toward towards true try turn two type
  types typically understand understanding unknown use used useful uses using usually value values various
  way ways well went whole wide widely work worked working works year years young`;
const COMMON_STEMS = new Set(
  COMMON_WORDS.split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => porterStem(w)),
);
