import { countTokens, decode, encode } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * Token counts for chunk sizes and input limits: OpenAI's cl100k_base encoding (text-embedding-3-* and ada-002
 * use it), so that a chunk's size in tokens is what the provider will count.
 */
export function tokenCount(text: string): number {
  return countTokens(text);
}

/**
 * The longest prefix of `text` (a true prefix, never a decoded approximation: decoding a cut inside a multi-token
 * character gives U+FFFD) of at most `maxTokens` tokens. Truncation is rare, so a binary search over lengths,
 * starting from the decoded estimate, is cheap enough.
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  const tokens = encode(text);
  if (tokens.length <= maxTokens) return text;
  let lo = 0;
  let hi = Math.min(text.length, decode(tokens.slice(0, maxTokens)).length + 64);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countTokens(text.slice(0, mid)) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo);
}
