/** Sizes in cl100k_base tokens: chunks aim at targetTokens and never exceed maxTokens. */
export interface ChunkerConfig {
  targetTokens: number;
  overlapTokens: number;
  maxTokens: number;
}

export const DEFAULT_CHUNKER_CONFIG: ChunkerConfig = Object.freeze({
  targetTokens: 256,
  overlapTokens: 32,
  maxTokens: 512,
});

/** One character is at most 4 UTF-8 bytes, so at most 4 tokens: the least maximum that can always hold. */
const MIN_MAX_TOKENS = 4;

/** `config` if it is usable: integers with 0 <= overlapTokens < targetTokens <= maxTokens, maxTokens >= 4. */
export function validateChunkerConfig(config: ChunkerConfig): ChunkerConfig {
  const { targetTokens, overlapTokens, maxTokens } = config;
  for (const [name, value] of Object.entries({ targetTokens, overlapTokens, maxTokens })) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new Error(`chunker config: ${name} must be an integer, got ${String(value)}`);
    }
  }
  if (targetTokens < 1) throw new Error(`chunker config: targetTokens must be positive, got ${targetTokens}`);
  if (maxTokens < MIN_MAX_TOKENS) {
    throw new Error(
      `chunker config: maxTokens must be at least ${MIN_MAX_TOKENS} (one character can take 4 tokens), ` +
        `got ${maxTokens}`,
    );
  }
  if (overlapTokens < 0) {
    throw new Error(`chunker config: overlapTokens must not be negative, got ${overlapTokens}`);
  }
  if (overlapTokens >= targetTokens) {
    throw new Error(
      `chunker config: overlapTokens (${overlapTokens}) must be less than targetTokens (${targetTokens})`,
    );
  }
  if (targetTokens > maxTokens) {
    throw new Error(
      `chunker config: targetTokens (${targetTokens}) must not be more than maxTokens (${maxTokens})`,
    );
  }
  return config;
}
