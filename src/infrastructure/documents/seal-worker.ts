import { serveOffThread } from '../off-thread.js';
import { seal, unseal } from './document-keys.js';

/** Seals and unseals large payloads off the main thread (seal-thread.ts). */
export interface SealRequest {
  op: 'seal' | 'unseal';
  key: Uint8Array;
  input: unknown;
}

serveOffThread(({ op, key, input }: SealRequest) =>
  op === 'seal' ? seal(Buffer.from(key), input) : unseal(Buffer.from(key), input as string),
);
