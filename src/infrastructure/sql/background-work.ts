import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Marks the database work of background loops (the projectors), so that a database with one session (PGlite)
 * can let the requests' statements go first (pglite-client.ts). Everything started inside `fn`, however deep and
 * through whichever client, is background work; a server with its connection pool ignores the mark.
 */
const background = new AsyncLocalStorage<true>();

export function runInBackground<T>(fn: () => Promise<T>): Promise<T> {
  return background.run(true, fn);
}

export function isBackgroundWork(): boolean {
  return background.getStore() === true;
}
