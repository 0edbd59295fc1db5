import type { DocumentEvent } from '../../domain/document/document.decider.js';
import { decodeDocumentEvent } from '../../infrastructure/documents/document-events.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

export interface OpenedEvent {
  recorded: RecordedEvent;
  event: DocumentEvent;
}

/** Decrypts document events with their keys, read in the caller's transaction (a new key commits with its upload). */
export async function openDocumentEvents(
  tx: SqlExecutor,
  events: readonly RecordedEvent[],
): Promise<OpenedEvent[]> {
  const keys = await documentKeys.load(
    tx,
    events.map((e) => (e.data as { documentId: string }).documentId),
  );
  return events.map((recorded) => ({
    recorded,
    event: decodeDocumentEvent(recorded, keys.get((recorded.data as { documentId: string }).documentId)),
  }));
}
