/**
 * 32-bit string hashing for feature hashing: FNV-1a over UTF-16 code units, and murmur3's finaliser to spread
 * the bits (FNV alone leaves the low bits, which pick the bucket, poorly mixed). Any change here moves every
 * vector of the local embedder: bump LOCAL_EMBEDDER_NAME with it.
 */

/** Seed of whole-word (and word-pair) features. */
export const SEED_UNIGRAM = 0x811c9dc5;
/** Seed of character n-gram features, so that an n-gram never collides on purpose with an equal word. */
export const SEED_NGRAM = 0x2f0a3c51;
/** FNV-1a's prime. */
export const FNV_PRIME = 0x01000193;

/** murmur3's 32-bit finaliser (an unsigned result). */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of the string's UTF-16 code units, from `seed` (an unsigned result). */
export function hashString(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}
