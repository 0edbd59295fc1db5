import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { documentVersionsProjection } from '../document-versions/document-versions.projection.js';
import { documentsProjection } from '../documents/documents.projection.js';

/** A read-model value that is not what the document's events make. Field names only: never content. */
export interface Difference {
  documentId: string;
  readModel: 'documents' | 'document_versions' | 'chunks' | 'document_keys';
  version?: number;
  field: string;
}

/** The tables the inline projections write (files: the versions projection deletes an erased document's). */
const SHADOWED = ['documents', 'document_versions', 'files'] as const;

/**
 * What the inline projections make of these events, against what is stored for the same documents. The
 * projections' own code writes the rows into temporary tables that shadow the read tables for the rest of the
 * transaction (a session's temporary tables come first in the search path), so the expected rows are made
 * exactly as an append or a rebuild makes them, without touching the stored ones. They are then compared column
 * by column and dropped (a failure rolls them back with the transaction). `files` is shadowed, empty, so that
 * replaying an erasure deletes no stored file.
 */
export async function compareInlineReadModels(
  tx: SqlExecutor,
  events: readonly RecordedEvent[],
  documentIds: readonly string[],
): Promise<Difference[]> {
  if (documentIds.length === 0) return [];
  const schema = await readTablesSchema(tx);
  await tx.exec(
    SHADOWED.map((t) => `CREATE TEMP TABLE ${t} (LIKE ${schema}.${t} INCLUDING ALL) ON COMMIT DROP`).join(
      ';\n',
    ),
  );
  if (events.length > 0) {
    await documentsProjection.apply(tx, events);
    await documentVersionsProjection.apply(tx, events);
  }
  const found = [
    ...(await differences(tx, schema, 'documents', documentIds)),
    ...(await differences(tx, schema, 'document_versions', documentIds)),
  ];
  await tx.exec(`DROP TABLE ${SHADOWED.map((t) => `pg_temp.${t}`).join(', ')}`);
  return found;
}

/** The schema of the stored read tables (asked before any shadow exists). */
async function readTablesSchema(tx: SqlExecutor): Promise<string> {
  const { rows } = await tx.query<{ schema: string }>(
    `SELECT quote_ident(n.nspname) AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = 'documents'::regclass`,
  );
  return rows[0]!.schema;
}

/**
 * Each row of the replay (pg_temp) against the stored row with the same key, field by field (as JSON, so that
 * NULLs, arrays and jsonb compare by value); a row on one side only is one difference.
 */
async function differences(
  tx: SqlExecutor,
  schema: string,
  table: 'documents' | 'document_versions',
  documentIds: readonly string[],
): Promise<Difference[]> {
  const versioned = table === 'document_versions';
  const keys = versioned ? 'document_id, version' : 'document_id';
  const join = versioned
    ? 'a.document_id = e.document_id AND a.version = e.version'
    : 'a.document_id = e.document_id';
  const { rows } = await tx.query<{ document_id: string; version: number | null; field: string }>(
    `WITH e AS (SELECT ${keys}, to_jsonb(t) AS j FROM pg_temp.${table} t),
       a AS (SELECT ${keys}, to_jsonb(r) AS j FROM ${schema}.${table} r WHERE r.document_id = ANY ($1::uuid[]))
     SELECT coalesce(e.document_id, a.document_id)::text AS document_id,
       ${versioned ? 'coalesce(e.version, a.version)' : 'NULL::int'} AS version,
       CASE WHEN a.j IS NULL THEN 'row missing' WHEN e.j IS NULL THEN 'row not expected' ELSE k.key END AS field
     FROM e FULL JOIN a ON ${join}
     LEFT JOIN LATERAL (SELECT key FROM jsonb_object_keys(e.j || a.j) AS key
                        WHERE (e.j -> key) IS DISTINCT FROM (a.j -> key)) k ON true
     WHERE a.j IS NULL OR e.j IS NULL OR k.key IS NOT NULL
     ORDER BY 1, 2, 3`,
    [[...documentIds]],
  );
  return rows.map((r) => ({
    documentId: r.document_id,
    readModel: table,
    ...(r.version === null ? {} : { version: r.version }),
    field: r.field,
  }));
}
