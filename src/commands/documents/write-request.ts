import type { Principal } from '../../domain/access.js';
import type { Writer } from './document-stream.js';

/** A write to an existing document, as the edge resolved it. */
export interface DocumentWrite {
  principal: Principal;
  documentId: string;
  /** From If-Match or the body's `expectedVersion`. */
  expectedVersion?: number;
  idempotencyKey?: string;
}

export const writerOf = (w: Omit<DocumentWrite, 'documentId'>): Writer => ({
  actor: w.principal.keyId,
  expectedVersion: w.expectedVersion,
  idempotencyKey: w.idempotencyKey,
});
