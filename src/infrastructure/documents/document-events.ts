import { z } from 'zod';
import type { DocumentEvent } from '../../domain/document/document.decider.js';
import { ACCESS_TIERS, type Snapshot } from '../../domain/document/document.js';
import type { EventRegistry } from '../event-store/event-registry.js';
import type { NewEvent, RecordedEvent } from '../event-store/event-store.js';
import { sealOffThread, unsealOffThread } from './seal-thread.js';

/**
 * How document events are stored: ids and kinds in the clear (projections and audits need them), everything a
 * user wrote — text, title, metadata, summaries, reasons — sealed with the document's key. The erasure reason is
 * the exception: the history must say why a document was erased after its key is gone.
 */
const id = z.string().uuid();
const sealed = z.string().min(1);

export const DOCUMENT_EVENT_TYPES = [
  'DocumentUploaded',
  'DocumentEdited',
  'DocumentFileReplaced',
  'DocumentRolledBack',
  'DocumentRetired',
  'DocumentErased',
] as const;

export function registerDocumentEvents(registry: EventRegistry): EventRegistry {
  return (
    registry
      .register({
        type: 'DocumentUploaded',
        schemaVersion: 1,
        schema: z.object({
          documentId: id,
          coachId: z.string(),
          sourceId: id,
          sourceType: z.enum(['upload', 'json', 'url', 'csv', 'folder']),
          sealed,
        }),
      })
      .register({
        type: 'DocumentEdited',
        schemaVersion: 1,
        schema: z.object({
          documentId: id,
          changed: z.array(z.enum(['content', 'metadata', 'title'])),
          sealed,
        }),
      })
      .register({
        type: 'DocumentFileReplaced',
        schemaVersion: 1,
        schema: z.object({ documentId: id, sealed }),
      })
      .register({
        type: 'DocumentRolledBack',
        schemaVersion: 1,
        schema: z.object({ documentId: id, toVersion: z.number().int(), sealed }),
      })
      .register({ type: 'DocumentRetired', schemaVersion: 1, schema: z.object({ documentId: id, sealed }) })
      .register({
        type: 'DocumentErased',
        // v2 keeps the tier in the clear: it decides who may see that the erasure happened (410 or 404).
        schemaVersion: 2,
        schema: z.object({ documentId: id, reason: z.string(), accessTier: z.enum(ACCESS_TIERS) }),
        // v1 stored no tier (its schema dropped it): premium is the one that hides nothing a free reader may see.
        upcasters: { 1: (data) => ({ accessTier: 'premium', ...(data as object) }) },
      })
      // EventStoreDB only: the claim of a coach's source by an upload (commands/documents/source-reservations.ts).
      .register({ type: SOURCE_RESERVED, schemaVersion: 1, schema: z.object({ documentId: id }) })
  );
}

export const SOURCE_RESERVED = 'SourceReserved';

/** A document's stream: all of its events, in order. */
export const documentStreamId = (documentId: string) => `document-${documentId}`;

interface Sealed {
  snapshot?: Snapshot;
  /** A folder's relative path can name people ("2024-01-15 - Dr Smith - …"): sealed, and gone with the key. */
  sourcePath?: string;
  changeSummary?: string;
  reason?: string;
}

/** The sealed part of an event, large ones sealed off the main thread. */
function sealPart(key: Buffer, value: Sealed): Promise<string> {
  return sealOffThread(key, value, value.snapshot?.content.length ?? 0);
}

export async function encodeDocumentEvent(event: DocumentEvent, key: Buffer): Promise<NewEvent> {
  switch (event.type) {
    case 'DocumentUploaded': {
      const { snapshot, sourcePath, ...clear } = event.data;
      const part = sourcePath ? { snapshot, sourcePath } : { snapshot };
      return { type: event.type, data: { ...clear, sealed: await sealPart(key, part) } };
    }
    case 'DocumentEdited': {
      const { snapshot, changeSummary, documentId, changed } = event.data;
      return {
        type: event.type,
        data: { documentId, changed, sealed: await sealPart(key, { snapshot, changeSummary }) },
      };
    }
    case 'DocumentFileReplaced': {
      const { snapshot, changeSummary, documentId } = event.data;
      return {
        type: event.type,
        data: { documentId, sealed: await sealPart(key, { snapshot, changeSummary }) },
      };
    }
    case 'DocumentRolledBack': {
      const { snapshot, reason, documentId, toVersion } = event.data;
      return {
        type: event.type,
        data: { documentId, toVersion, sealed: await sealPart(key, { snapshot, reason }) },
      };
    }
    case 'DocumentRetired':
      return {
        type: event.type,
        data: {
          documentId: event.data.documentId,
          sealed: await sealPart(key, { reason: event.data.reason }),
        },
      };
    case 'DocumentErased':
      return { type: event.type, data: event.data };
  }
}

/** The placeholder an erased document's earlier events decode to: their text is gone for good. */
export const ERASED_SNAPSHOT: Snapshot = {
  title: '',
  content: '',
  format: 'text',
  metadata: { documentType: 'research', tags: [], accessTier: 'premium' },
};

/** Decodes a stored event; without a key (erased) the sealed part reads as the erased placeholder. */
export async function decodeDocumentEvent(
  event: RecordedEvent,
  key: Buffer | undefined,
): Promise<DocumentEvent> {
  const data = event.data as Record<string, unknown> & { sealed?: string };
  const open: Sealed =
    key && data.sealed ? await unsealOffThread<Sealed>(key, data.sealed) : { snapshot: ERASED_SNAPSHOT };
  const { sealed: _sealed, ...clear } = data;
  switch (event.type) {
    case 'DocumentUploaded':
    case 'DocumentFileReplaced':
    case 'DocumentEdited':
    case 'DocumentRolledBack':
      return {
        type: event.type,
        data: {
          ...clear,
          snapshot: open.snapshot ?? ERASED_SNAPSHOT,
          changeSummary: open.changeSummary,
          reason: open.reason,
          ...(open.sourcePath ? { sourcePath: open.sourcePath } : {}),
        },
      } as unknown as DocumentEvent;
    case 'DocumentRetired':
      return { type: 'DocumentRetired', data: { documentId: String(clear.documentId), reason: open.reason } };
    case 'DocumentErased':
      return {
        type: 'DocumentErased',
        data: clear as { documentId: string; reason: string; accessTier: 'free' | 'premium' },
      };
    default:
      throw new Error(`${event.type} is not a document event`);
  }
}
