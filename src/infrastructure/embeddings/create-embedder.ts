import type { AppConfig } from '../config/config.js';
import type { Embedder } from './embedder.js';
import { LocalEmbedder } from './local-embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';

/**
 * The one place that makes embedders (outside tests): the one EMBEDDINGS_PROVIDER names, and the one a chunks
 * version recorded (blue/green). Its `space` keys the chunks and the embedding cache.
 */
export function createEmbedder(config: AppConfig): Embedder {
  if (config.EMBEDDINGS_PROVIDER === 'openai') {
    return new OpenAiEmbedder({
      // A compatible server without authentication (Ollama, vLLM) still gets a bearer token from the client.
      apiKey: config.OPENAI_API_KEY ?? 'no-key',
      baseURL: config.OPENAI_BASE_URL,
      model: config.EMBEDDINGS_MODEL,
      dimensions: config.EMBEDDINGS_DIMENSIONS,
    });
  }
  return new LocalEmbedder(config.EMBEDDINGS_DIMENSIONS ? { dimensions: config.EMBEDDINGS_DIMENSIONS } : {});
}

/** How to make the configured embedder again, without its secrets (the key comes from the environment). */
export function embedderOptions(config: AppConfig): Record<string, unknown> {
  return config.EMBEDDINGS_PROVIDER === 'openai'
    ? { provider: 'openai', model: config.EMBEDDINGS_MODEL, dimensions: config.EMBEDDINGS_DIMENSIONS ?? null }
    : { provider: 'local', dimensions: config.EMBEDDINGS_DIMENSIONS ?? null };
}

/** The embedder `embedderOptions` recorded, when it can be made again here (the provider's key is set). */
export function recreateEmbedder(o: Record<string, unknown>, config: AppConfig): Embedder | undefined {
  const dimensions = typeof o.dimensions === 'number' ? o.dimensions : undefined;
  if (o.provider === 'local') return new LocalEmbedder(dimensions ? { dimensions } : {});
  if (o.provider !== 'openai' || typeof o.model !== 'string') return undefined;
  if (!config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) return undefined;
  try {
    const apiKey = config.OPENAI_API_KEY ?? 'no-key';
    return new OpenAiEmbedder({ apiKey, baseURL: config.OPENAI_BASE_URL, model: o.model, dimensions });
  } catch {
    return undefined; // a model whose dimensions are unknown here: the new version serves once it is live
  }
}
