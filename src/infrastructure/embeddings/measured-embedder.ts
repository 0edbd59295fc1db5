import type { EmbedOptions, Embedder } from './embedder.js';

/** Why texts are embedded: chunks by the projection, or a search's query. */
export type EmbeddingPurpose = 'index' | 'query';

export interface EmbeddingCall {
  purpose: EmbeddingPurpose;
  space: string;
  texts: number;
  /** Tokens sent, as the provider counts them; none for an embedder without tokens (the local one). */
  tokens: number;
  ok: boolean;
}

/** What metrics hear of embeddings: each call of the embedder, and each lookup in the embedding cache. */
export interface EmbeddingRecorder {
  embedded(call: EmbeddingCall): void;
  /** `hits`: texts whose vector was found stored; `misses`: texts sent to the embedder. */
  cacheLookups(space: string, hits: number, misses: number): void;
}

export const noEmbeddingRecorder: EmbeddingRecorder = {
  embedded: () => undefined,
  cacheLookups: () => undefined,
};

/**
 * The embedder, each call reported to `recorder` (its texts, tokens and outcome) under `purpose`. The same
 * embedder is wrapped once per purpose, so that indexing and queries are told apart.
 */
export function measuredEmbedder(
  inner: Embedder,
  recorder: EmbeddingRecorder,
  purpose: EmbeddingPurpose,
): Embedder {
  if (recorder === noEmbeddingRecorder) return inner;
  return {
    space: inner.space,
    dimensions: inner.dimensions,
    async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
      let tokens = 0;
      const usage = (n: number): void => {
        tokens += n;
        options.usage?.(n);
      };
      const call = { purpose, space: inner.space, texts: texts.length };
      try {
        const vectors = await inner.embed(texts, { ...options, usage });
        recorder.embedded({ ...call, tokens, ok: true });
        return vectors;
      } catch (error) {
        recorder.embedded({ ...call, tokens, ok: false });
        throw error;
      }
    },
  };
}
