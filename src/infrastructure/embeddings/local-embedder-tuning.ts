/** The feature weights of the LocalEmbedder (see local-embedder.ts); the defaults are what it ships with. */
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
