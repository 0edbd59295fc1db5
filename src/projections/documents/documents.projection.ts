import type { DocumentEvent } from '../../domain/document/document.decider.js';
import type { Snapshot } from '../../domain/document/document.js';
import { DOCUMENT_EVENT_TYPES } from '../../infrastructure/documents/document-events.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { Projection } from '../../infrastructure/projections/projection.js';
import { openDocumentEvents, type OpenedEvent } from './open-document-events.js';

/** The current state of every document (inline: reads show a write at once). Each event applies once by version. */
export const documentsProjection: Projection = {
  name: 'documents',
  version: 1,
  handles: DOCUMENT_EVENT_TYPES,
  async apply(tx, events) {
    const opened = await openDocumentEvents(tx, events);
    // An upload is its document's first event: all of them go in first, in one statement; then the rest in order.
    await insertUploads(
      tx,
      opened.filter((o) => o.event.type === 'DocumentUploaded'),
    );
    for (const { recorded, event } of opened)
      if (event.type !== 'DocumentUploaded') await applyOne(tx, recorded, event);
  },
  async truncate(tx) {
    await tx.query('TRUNCATE documents');
  },
};

/** The columns a snapshot fills, as JSON for one parameter (the same on pg and PGlite). */
export function snapshotColumns(s: Snapshot) {
  return {
    title: s.title,
    content: s.content,
    format: s.format,
    metadata: s.metadata,
    documentType: s.metadata.documentType,
    accessTier: s.metadata.accessTier,
    tags: s.metadata.tags,
    publicationDate: s.metadata.publicationDate ?? null,
    sourceUrl: s.metadata.sourceUrl ?? null,
    sourceSha256: s.file?.sha256 ?? sha256(s.content),
    fileSha256: s.file?.sha256 ?? null,
    fileName: s.file?.filename ?? null,
  };
}

const SET_FROM_SNAPSHOT = `title = s->>'title', content = s->>'content', format = s->>'format', metadata = s->'metadata',
  document_type = s->>'documentType', access_tier = s->>'accessTier',
  tags = ARRAY(SELECT jsonb_array_elements_text(s->'tags')), publication_date = s->>'publicationDate',
  source_url = s->>'sourceUrl', source_sha256 = s->>'sourceSha256', file_sha256 = s->>'fileSha256'`;

/** New documents' rows, one statement for any number of uploads. */
async function insertUploads(tx: SqlExecutor, uploads: readonly OpenedEvent[]): Promise<void> {
  if (uploads.length === 0) return;
  const rows = uploads.map(({ recorded: r, event }) => {
    const d = (event as Extract<DocumentEvent, { type: 'DocumentUploaded' }>).data;
    return {
      ...headOf(r),
      coachId: d.coachId,
      sourceId: d.sourceId,
      sourceType: d.sourceType,
      sourcePath: d.sourcePath ?? null,
      s: snapshotColumns(d.snapshot),
    };
  });
  await tx.query(
    `INSERT INTO documents (document_id, coach_id, status, version, source_id, source_type, created_at, created_by,
       updated_at, updated_by, position, title, content, format, metadata, document_type, access_tier, tags,
       publication_date, source_url, source_sha256, file_sha256, source_path)
     SELECT "documentId", "coachId", 'active', version, "sourceId", "sourceType", at, actor, at, actor, position,
       s->>'title', s->>'content', s->>'format', s->'metadata', s->>'documentType', s->>'accessTier',
       ARRAY(SELECT jsonb_array_elements_text(s->'tags')), s->>'publicationDate', s->>'sourceUrl',
       s->>'sourceSha256', s->>'fileSha256', "sourcePath"
     FROM jsonb_to_recordset($1::jsonb) AS x("documentId" uuid, version int, at timestamptz, actor text,
       position text, "coachId" text, "sourceId" uuid, "sourceType" text, "sourcePath" text, s jsonb)
     ON CONFLICT (document_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/** The columns every event sets: whose, which version, when, by whom, where in the global order. */
export function headOf(r: RecordedEvent) {
  return {
    documentId: r.streamId.replace(/^document-/, ''),
    version: r.streamPosition,
    at: r.recordedAt.toISOString(),
    actor: r.metadata.actor,
    position: r.position,
  };
}

async function applyOne(tx: SqlExecutor, r: RecordedEvent, event: DocumentEvent): Promise<void> {
  const common = [
    r.streamId.replace(/^document-/, ''),
    r.streamPosition,
    r.recordedAt.toISOString(),
    r.metadata.actor,
    r.position,
  ];
  switch (event.type) {
    case 'DocumentUploaded':
      return; // insertUploads
    case 'DocumentEdited':
    case 'DocumentFileReplaced':
    case 'DocumentRolledBack':
      await tx.query(
        `UPDATE documents SET status = 'active', version = $2, updated_at = $3, updated_by = $4, position = $5, ${SET_FROM_SNAPSHOT}
         FROM (SELECT $6::jsonb AS s) x WHERE document_id = $1 AND version < $2`,
        [...common, JSON.stringify(snapshotColumns(event.data.snapshot))],
      );
      return;
    case 'DocumentRetired':
      await tx.query(
        `UPDATE documents SET status = 'retired', version = $2, updated_at = $3, updated_by = $4, position = $5
         WHERE document_id = $1 AND version < $2`,
        common,
      );
      return;
    case 'DocumentErased':
      // The row stays (coach and tier decide who may read the erasure's history); everything written by users goes.
      await tx.query(
        `UPDATE documents SET status = 'erased', version = $2, updated_at = $3, updated_by = $4, position = $5,
           title = NULL, content = NULL, format = NULL, metadata = NULL, document_type = NULL, tags = '{}',
           publication_date = NULL, source_url = NULL, source_sha256 = NULL, file_sha256 = NULL, source_id = NULL,
           source_path = NULL,
           access_tier = $6
         WHERE document_id = $1 AND version < $2`,
        [...common, event.data.accessTier],
      );
      return;
  }
}
