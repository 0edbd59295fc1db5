/**
 * The embedding port. An embedder turns texts into unit-length vectors of a fixed dimension; `space` names the
 * vector space (provider, model, dimensions) so that vectors of different spaces are never compared, and keys
 * the embedding cache.
 */
export interface Embedder {
  /** e.g. `local:hash-v1:384` or `openai:text-embedding-3-small:1536`. */
  readonly space: string;
  readonly dimensions: number;
  /**
   * One vector per text, in order. Throws EmbeddingError. A provider that counts tokens reports those it was
   * sent through `usage` (metrics); the local embedder has none.
   */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

export interface EmbedOptions {
  signal?: AbortSignal;
  usage?: (tokens: number) => void;
}

/**
 * `retryable`: the provider is unavailable (429, 5xx, timeout, network) and the same call may succeed later;
 * otherwise the input itself is refused and retrying cannot help (a dead letter for the projection).
 */
export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'EmbeddingError';
  }
}

export const EMBEDDER = Symbol('EMBEDDER');
