import { OFF_THREAD_CHARS, OffThread } from '../../infrastructure/off-thread.js';
import { workerUrl } from '../../infrastructure/worker-url.js';
import { chunkText, type Chunk, type ChunkerInput } from './chunker.js';
import type { ChunkerConfig } from './chunker-config.js';
import type { ChunkRequest } from './chunker-worker.js';

/** One chunking thread for the process (OffThread). */
const thread = new OffThread<ChunkRequest, Chunk[]>(
  () => workerUrl(import.meta.url, 'chunker-worker'),
  'chunker',
);

/**
 * `chunkText`, without holding the event loop: chunking is one synchronous pass that counts tokens (BPE) over
 * the whole text, and for a 20 MB document it held every HTTP request of the process for seconds.
 */
export async function chunkOffThread(input: ChunkerInput, config: ChunkerConfig): Promise<Chunk[]> {
  if (input.content.length < OFF_THREAD_CHARS) return chunkText(input, config);
  return thread.run({
    input: { content: input.content, sections: input.sections, pages: input.pages },
    config,
  });
}
