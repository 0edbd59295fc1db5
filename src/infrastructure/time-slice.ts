import { performance } from 'node:perf_hooks';

/**
 * Cooperative time slicing for CPU-bound loops on the event loop (chunking, local embedding, building a batch's
 * rows): the returned function yields to pending I/O once `budgetMs` have passed since the last yield, and is
 * nearly free otherwise. Without it a projector catch-up held the event loop for seconds at a time (13 s seen
 * with 500-event batches), stalling every HTTP request of the same process and resetting kept-alive connections.
 */
export function timeSlice(budgetMs = 20): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
