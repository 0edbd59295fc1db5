import type { DocumentEvent } from '../../domain/document/document.decider.js';
import { decodeDocumentEvent } from '../../infrastructure/documents/document-events.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

export interface OpenedEvent {
  recorded: RecordedEvent;
  event: DocumentEvent;
}

/**
 * Events opened by an earlier projection of the same append or batch: the inline projections are handed the same
 * recorded events, in one transaction, so the second needs no keys read again. Every read of the store makes new
 * objects, so an event read after its document's erasure is never opened from here.
 */
const opened = new WeakMap<RecordedEvent, DocumentEvent>();

/** Decrypts document events with their keys, read in the caller's transaction (a new key commits with its upload). */
export async function openDocumentEvents(
  tx: SqlExecutor,
  events: readonly RecordedEvent[],
): Promise<OpenedEvent[]> {
  const closed = events.filter((e) => !opened.has(e));
  const keys = await documentKeys.load(
    tx,
    closed.map((e) => (e.data as { documentId: string }).documentId),
  );
  const decoded = await Promise.all(
    closed.map((e) => decodeDocumentEvent(e, keys.get((e.data as { documentId: string }).documentId))),
  );
  closed.forEach((recorded, i) => opened.set(recorded, decoded[i]!));
  return events.map((recorded) => ({ recorded, event: opened.get(recorded)! }));
}
