import { fmix, FNV_PRIME, hashString, SEED_NGRAM, SEED_UNIGRAM } from '../text/hashing.js';
import { tokenize } from '../text/tokenizer.js';
import { timeSlice } from '../time-slice.js';
import { EmbeddingError, type Embedder } from './embedder.js';
import { lexicalFeatures, tfWeight, type LexicalFeatures } from './lexical-features.js';
import { DEFAULT_LOCAL_EMBEDDER_TUNING, type LocalEmbedderTuning } from './local-embedder-tuning.js';

export type { LocalEmbedderTuning } from './local-embedder-tuning.js';
export { porterStem } from '../text/stemmer.js';

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
 *   ("haemoglobin" → "hemoglobin", "tumour", "randomised", "centre", "oestrogen").
 * - Unigrams: Porter stems of non-stopwords, with sublinear tf (1 + ln tf).
 * - Sub-words: character 3–5-grams of each stem with boundary markers, so that morphological variants and
 *   related technical terms share mass ("glycaemic" ~ "hyperglycemia").
 * - Word pairs: bigrams of consecutive content stems within a sentence (stopwords skipped).
 * - An IDF-like prior without corpus statistics: ln of the word's rank in the cl100k_base BPE vocabulary
 *   (merge order follows frequency in the tokenizer's training text; words that are not one token count as
 *   rarest), a built-in stopword list (weight 0) and list of common general/academic words (down-weighted);
 *   acronyms and compounds weigh more.
 *
 * Output depends only on the text and the dimension (no corpus state; the caches only memoise pure
 * functions). Texts without any word (empty, punctuation) get a fixed non-zero unit vector (every component
 * 1/sqrt(D)), never all zeros, so that cosine distance stays defined in pgvector. Texts made only of
 * stopwords are embedded from their stopwords. Bump LOCAL_EMBEDDER_NAME whenever the output changes.
 */

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
    const features = lexicalFeatures(tokenize(text), this.tuning);
    const acc = new Float64Array(this.dimensions);
    // A text without any word still gets a defined direction (pgvector's cosine distance needs a non-zero vector).
    if (features.terms.size === 0) acc.fill(1);
    else this.addFeatures(acc, features);
    return unitVector(acc);
  }

  /** Each unigram, its character n-grams (sharing its weight) and each word pair, hashed into `acc`. */
  private addFeatures(acc: Float64Array, { terms, pairs }: LexicalFeatures): void {
    const t = this.tuning;
    for (const entry of terms.values()) {
      const w = tfWeight(entry.count, t.tfPower) * entry.prior;
      this.addHashed(acc, fmix(hashString(entry.key, SEED_UNIGRAM)), w);
      const count = entry.ngrams ? this.ngramHashes(entry.key) : 0;
      if (count > 0) {
        const nw = (w * t.ngramWeight) / Math.sqrt(count);
        for (let i = 0; i < count; i++) this.addHashed(acc, this.scratch[i]!, nw);
      }
    }
    for (const [hash, pair] of pairs) {
      this.addHashed(acc, hash, tfWeight(pair.count, t.tfPower) * pair.weight * t.bigramWeight);
    }
  }

  /** Signed feature hashing: the hash's low bit is the sign, the rest picks the bucket (one per probe). */
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
        h = Math.imul(h ^ (pos === 0 ? 60 : pos === len - 1 ? 62 : key.charCodeAt(pos - 1)), FNV_PRIME);
        const letters = n - (i === 0 ? 1 : 0) - (i + n === len ? 1 : 0);
        if (n >= t.ngramMin && n < len && letters >= t.ngramMinLetters) this.scratch[count++] = fmix(h ^ n);
      }
    }
    return count;
  }
}

/** `acc` scaled to unit length, as float32 (a zero vector, when every weight cancels, as the fixed one). */
function unitVector(acc: Float64Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < acc.length; i++) norm += acc[i]! * acc[i]!;
  const out = new Float32Array(acc.length);
  if (norm === 0) {
    out.fill(1 / Math.sqrt(acc.length));
    return out;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]! * inv;
  return out;
}
