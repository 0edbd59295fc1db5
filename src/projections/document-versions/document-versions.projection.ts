import type { DocumentEvent } from '../../domain/document/document.decider.js';
import { DOCUMENT_EVENT_TYPES } from '../../infrastructure/documents/document-events.js';
import { fileStore } from '../../infrastructure/documents/file-store.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { snapshotColumns } from '../documents/documents.projection.js';
import { openDocumentEvents } from '../documents/open-document-events.js';
import type { Projection } from '../../infrastructure/projections/projection.js';

const CHANGE: Record<DocumentEvent['type'], string> = {
  DocumentUploaded: 'uploaded',
  DocumentEdited: 'edited',
  DocumentFileReplaced: 'file_replaced',
  DocumentRolledBack: 'rolled_back',
  DocumentRetired: 'retired',
  DocumentErased: 'erased',
};

/** Every version of every document: its text and metadata, who, when, why, and its position (inline). */
export const documentVersionsProjection: Projection = {
  name: 'document_versions',
  version: 1,
  handles: DOCUMENT_EVENT_TYPES,
  async apply(tx, events) {
    for (const { recorded, event } of await openDocumentEvents(tx, events))
      await applyOne(tx, recorded, event);
  },
  async truncate(tx) {
    await tx.query('TRUNCATE document_versions');
  },
};

function summaryOf(event: DocumentEvent): string | null {
  const d = event.data as { changeSummary?: string; reason?: string };
  return d.changeSummary ?? d.reason ?? null;
}

async function applyOne(tx: SqlExecutor, r: RecordedEvent, event: DocumentEvent): Promise<void> {
  const documentId = r.streamId.replace(/^document-/, '');
  const head = [
    documentId,
    r.streamPosition,
    CHANGE[event.type],
    summaryOf(event),
    r.metadata.actor,
    r.recordedAt.toISOString(),
    r.position,
  ];
  const insert = `INSERT INTO document_versions (document_id, version, change, change_summary, actor, at, position, status,
      rolled_back_to, title, content, format, metadata, file_sha256, file_name)`;
  switch (event.type) {
    case 'DocumentUploaded':
    case 'DocumentEdited':
    case 'DocumentFileReplaced':
    case 'DocumentRolledBack': {
      const toVersion = event.type === 'DocumentRolledBack' ? event.data.toVersion : null;
      await tx.query(
        `${insert} SELECT $1, $2, $3, $4, $5, $6, $7, 'active', $8, s->>'title', s->>'content', s->>'format', s->'metadata', s->>'fileSha256',
           s->>'fileName'
         FROM (SELECT $9::jsonb AS s) x ON CONFLICT (document_id, version) DO NOTHING`,
        [...head, toVersion, JSON.stringify(snapshotColumns(event.data.snapshot))],
      );
      return;
    }
    case 'DocumentRetired':
      await tx.query(
        `${insert} SELECT $1, $2, $3, $4, $5, $6, $7, 'retired', NULL, title, content, format, metadata, file_sha256, file_name
         FROM document_versions WHERE document_id = $1 AND version = $2 - 1 ON CONFLICT (document_id, version) DO NOTHING`,
        head,
      );
      return;
    case 'DocumentErased': {
      const { rows } = await tx.query<{ sha: string }>(
        `SELECT DISTINCT file_sha256 AS sha FROM document_versions WHERE document_id = $1 AND file_sha256 IS NOT NULL`,
        [documentId],
      );
      await tx.query(
        `UPDATE document_versions SET title = NULL, content = NULL, format = NULL, metadata = NULL, file_sha256 = NULL,
           file_name = NULL, change_summary = NULL WHERE document_id = $1 AND version < $2`,
        [documentId, r.streamPosition],
      );
      await tx.query(
        `${insert} VALUES ($1, $2, $3, $4, $5, $6, $7, 'erased', NULL, NULL, NULL, NULL, NULL, NULL, NULL)
         ON CONFLICT (document_id, version) DO NOTHING`,
        head,
      );
      await fileStore.deleteUnreferenced(
        tx,
        rows.map((r) => r.sha),
      );
      return;
    }
  }
}
