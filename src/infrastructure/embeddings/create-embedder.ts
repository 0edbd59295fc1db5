import type { AppConfig } from '../config/config.js';
import type { Embedder } from './embedder.js';
import { LocalEmbedder } from './local-embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';

/** The embedder EMBEDDINGS_PROVIDER names; its `space` keys the chunks and the embedding cache. */
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
