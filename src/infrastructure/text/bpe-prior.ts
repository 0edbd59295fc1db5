import { decode, vocabularySize } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * An IDF-like prior without corpus statistics: a word's rank in the cl100k_base BPE vocabulary. Merge order
 * follows frequency in the tokenizer's training text, so ln(rank) is a corpus-free proxy of a word's IDF.
 * (gpt-tokenizer is already a dependency, for chunk sizes.)
 */

/** Rank given to words that are not one cl100k_base token (about the vocabulary's size). */
export const UNRANKED = 100_000;

export interface BpeRank {
  /** The word's rank, or UNRANKED when it is not one token. */
  rank: number;
  /** Its number of BPE tokens: 1 when ranked, else estimated from its length. */
  tokens: number;
}

/** The BPE rank of a lowercased word written after a space (" insulin"). */
export function bpeRank(lower: string): BpeRank {
  const rank = wordRanks().get(lower);
  return {
    rank: rank ?? UNRANKED,
    tokens: rank === undefined ? Math.max(2, Math.ceil(lower.length / 4)) : 1,
  };
}

let ranks: Map<string, number> | undefined;

/**
 * The words that are a single cl100k_base token when preceded by a space (" the", " insulin"), by lowercase
 * form, with the lowest rank of their casings. Built once, on first use (tens of thousands of entries).
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
