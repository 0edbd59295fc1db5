import { serveOffThread } from '../../infrastructure/off-thread.js';
import { chunkText, type ChunkerInput } from './chunker.js';
import type { ChunkerConfig } from './chunker-config.js';

/** Chunks documents off the main thread (chunker-thread.ts). */
export interface ChunkRequest {
  input: ChunkerInput;
  config: ChunkerConfig;
}

serveOffThread(({ input, config }: ChunkRequest) => chunkText(input, config));
