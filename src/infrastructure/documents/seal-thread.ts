import { OFF_THREAD_CHARS, OffThread } from '../off-thread.js';
import { workerUrl } from '../worker-url.js';
import { seal, unseal } from './document-keys.js';
import type { SealRequest } from './seal-worker.js';

const thread = new OffThread<SealRequest, unknown>(
  () => workerUrl(import.meta.url, 'seal-worker'),
  'sealing',
);

/** `seal`, in the worker for a large payload (`size`: its text's length, a cheap estimate of its JSON's). */
export async function sealOffThread(key: Buffer, value: unknown, size: number): Promise<string> {
  if (size < OFF_THREAD_CHARS) return seal(key, value);
  return (await thread.run({ op: 'seal', key: new Uint8Array(key), input: value })) as string;
}

/** `unseal`, in the worker for a large payload. */
export async function unsealOffThread<T>(key: Buffer, sealed: string): Promise<T> {
  if (sealed.length < OFF_THREAD_CHARS) return unseal<T>(key, sealed);
  return (await thread.run({ op: 'unseal', key: new Uint8Array(key), input: sealed })) as T;
}
