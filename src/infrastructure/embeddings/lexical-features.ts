import { fmix } from '../text/hashing.js';
import type { Token } from '../text/tokenizer.js';
import { wordInfo, type WordInfo } from '../text/word-info.js';
import type { LocalEmbedderTuning } from './local-embedder-tuning.js';

/** A unigram feature: a stem (or word) with its count and prior weight. */
export interface TermFeature {
  key: string;
  count: number;
  prior: number;
  /** Whether its character n-grams are features too (not for the joined form of a compound). */
  ngrams: boolean;
}

/** A word pair feature, keyed by the hash of its two words. */
export interface PairFeature {
  count: number;
  weight: number;
}

/** A text's weighted bag of features, in first-occurrence order (the order they are hashed in). */
export interface LexicalFeatures {
  terms: Map<string, TermFeature>;
  pairs: Map<number, PairFeature>;
}

/**
 * The features of a tokenised text: unigrams (stopwords weigh 0 unless the text has nothing else), the
 * joined form of each compound, and pairs of consecutive content words within a sentence.
 */
export function lexicalFeatures(tokens: readonly Token[], t: LocalEmbedderTuning): LexicalFeatures {
  const features: LexicalFeatures = { terms: new Map(), pairs: new Map() };
  const useStops = tokens.every((tok) => tok.info.stop);
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
      addJoined(features.terms, tok.joined, compoundPrior * t.compoundFactor, t);
    }
    if (stop) continue;
    addTerm(features.terms, t.stem ? info.stem : info.word, prior, t.priorCombine);
    const hash = t.stem ? info.stemHash : info.wordHash;
    if (prev !== undefined && t.bigramWeight > 0) addPair(features.pairs, prev, { hash, prior });
    prev = { hash, prior };
  }
  return features;
}

/** 1 + ln tf (sublinear), or tf^power. */
export function tfWeight(count: number, power: number): number {
  return power === 0 ? 1 + Math.log(count) : Math.pow(count, power);
}

/** A word's prior: its BPE rarity (or length), down-weighted when common, up-weighted when technical. */
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

/**
 * The joined form ("IL-6" → "il6") is the same feature as the word written without hyphens, as specific as
 * the compound's most specific part, and without n-grams of its own (its parts have them).
 */
function addJoined(terms: Map<string, TermFeature>, joined: string, prior: number, t: LocalEmbedderTuning) {
  const ji = wordInfo(joined);
  const key = t.stem ? ji.stem : ji.word;
  const entry = terms.get(key);
  if (entry) {
    entry.count++;
    if (prior > entry.prior) entry.prior = prior;
  } else terms.set(key, { count: 1, prior, key, ngrams: false });
}

function addTerm(
  terms: Map<string, TermFeature>,
  key: string,
  prior: number,
  combine: LocalEmbedderTuning['priorCombine'],
) {
  const entry = terms.get(key);
  if (entry) {
    entry.count++;
    if (combine === 'max' ? prior > entry.prior : combine === 'min' && prior < entry.prior)
      entry.prior = prior;
    entry.ngrams = true;
  } else terms.set(key, { count: 1, prior, key, ngrams: true });
}

function addPair(
  pairs: Map<number, PairFeature>,
  prev: { hash: number; prior: number },
  next: { hash: number; prior: number },
) {
  const key = fmix(Math.imul(prev.hash, 0x9e3779b1) ^ next.hash ^ 0x5bd1e995);
  const weight = Math.sqrt(prev.prior * next.prior);
  const entry = pairs.get(key);
  if (entry) {
    entry.count++;
    if (weight > entry.weight) entry.weight = weight;
  } else pairs.set(key, { count: 1, weight });
}
