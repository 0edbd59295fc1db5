import { parentPort, workerData } from 'node:worker_threads';
import { chunkText, type ChunkerInput } from './chunker.js';
import type { ChunkerConfig } from './chunker-config.js';

/** Chunks one document off the main thread (chunker-thread.ts) and ends. */
if (parentPort) {
  const { input, config } = workerData as { input: ChunkerInput; config: ChunkerConfig };
  parentPort.postMessage(chunkText(input, config));
}
