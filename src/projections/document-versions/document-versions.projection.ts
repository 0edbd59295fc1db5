import type { DocumentEvent } from '../../domain/document/document.decider.js';
import type { Snapshot } from '../../domain/document/document.js';
import { DOCUMENT_EVENT_TYPES } from '../../infrastructure/documents/document-events.js';
import { fileStore } from '../../infrastructure/documents/file-store.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { headOf, snapshotColumns } from '../documents/documents.projection.js';
import { openDocumentEvents, type OpenedEvent } from '../documents/open-document-events.js';
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
    const opened = await openDocumentEvents(tx, events);
    // The versions with a snapshot go in first, in one statement: a retirement copies the version before it, an
    // erasure (a stream's last event) blanks those before it, so both come after, in order.
    await insertSnapshots(
      tx,
      opened.filter((o) => SNAPSHOT_EVENTS.has(o.event.type)),
    );
    for (const { recorded, event } of opened)
      if (!SNAPSHOT_EVENTS.has(event.type)) await applyOne(tx, recorded, event);
  },
  async truncate(tx) {
    await tx.query('TRUNCATE document_versions');
  },
};

const SNAPSHOT_EVENTS = new Set<DocumentEvent['type']>([
  'DocumentUploaded',
  'DocumentEdited',
  'DocumentFileReplaced',
  'DocumentRolledBack',
]);

async function insertSnapshots(tx: SqlExecutor, opened: readonly OpenedEvent[]): Promise<void> {
  if (opened.length === 0) return;
  const rows = opened.map(({ recorded, event }) => {
    const data = event.data as { snapshot: Snapshot; toVersion?: number };
    return {
      ...headOf(recorded),
      change: CHANGE[event.type],
      summary: summaryOf(event),
      toVersion: event.type === 'DocumentRolledBack' ? (data.toVersion ?? null) : null,
      s: snapshotColumns(data.snapshot),
    };
  });
  await tx.query(
    `INSERT INTO document_versions (document_id, version, change, change_summary, actor, at, position, status,
       rolled_back_to, title, content, format, metadata, file_sha256, file_name)
     SELECT "documentId", version, change, summary, actor, at, position, 'active', "toVersion", s->>'title',
       s->>'content', s->>'format', s->'metadata', s->>'fileSha256', s->>'fileName'
     FROM jsonb_to_recordset($1::jsonb) AS x("documentId" uuid, version int, change text, summary text, actor text,
       at timestamptz, position text, "toVersion" int, s jsonb)
     ON CONFLICT (document_id, version) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

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
    case 'DocumentRolledBack':
      return; // insertSnapshots
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
