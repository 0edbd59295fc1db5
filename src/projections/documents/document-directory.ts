import type { DocumentThenAndNow } from '../../domain/document/restore-plan.js';
import {
  sourceKey,
  type DocumentDirectory,
  type DocumentHead,
} from '../../infrastructure/documents/document-directory.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

/**
 * The duplicate check for a batch of sources, bound as one array, by the one key of the documents_duplicates
 * index (migration 0014): with coach_id and status as conditions of their own, a table without statistics was
 * read through the coach's listing index; a set-returning function's rows would be guessed.
 */
export const ACTIVE_WITH_SOURCES_SQL = `SELECT DISTINCT ON (source_sha256 || coach_id) source_sha256 || coach_id AS key,
    document_id::text, version, position
  FROM documents WHERE source_sha256 || coach_id = ANY ($1::text[]) AND status = 'active'
  ORDER BY source_sha256 || coach_id, created_at`;

/** By primary key, for any number of documents (bound as an array: a set-returning function's rows are guessed). */
export const COACHES_OF_DOCUMENTS_SQL = `SELECT document_id::text, coach_id FROM documents
  WHERE document_id = ANY ($1::uuid[])`;

/** By the documents_source_paths index (migration 0016); an erased document has no path. */
export const WITH_SOURCE_PATHS_SQL = `SELECT source_path, document_id::text, access_tier, status, version, position,
    source_sha256, metadata
  FROM documents WHERE coach_id = $1 AND source_path = ANY ($2::text[])`;

/** The documents read model's answers to the command side (its port, DocumentDirectory). */
export const documentDirectory: DocumentDirectory = {
  async head(on, documentId) {
    const { rows } = await on.query<{
      coach_id: string;
      access_tier: string | null;
      status: DocumentHead['status'];
      version: number;
      position: string;
    }>(`SELECT coach_id, access_tier, status, version, position FROM documents WHERE document_id = $1`, [
      documentId,
    ]);
    const row = rows[0];
    return (
      row && {
        documentId,
        coachId: row.coach_id,
        accessTier: row.access_tier,
        status: row.status,
        version: row.version,
        position: row.position,
      }
    );
  },

  async activeWithSources(on, sources) {
    const keys = sources.map(({ coachId, sourceSha256 }) => sourceSha256 + coachId);
    const { rows } = await on.query<{ key: string; document_id: string; version: number; position: string }>(
      ACTIVE_WITH_SOURCES_SQL,
      [keys],
    );
    // The index's key is the hash (a fixed 64 characters) then the coach.
    return new Map(
      rows.map((r) => [
        sourceKey({ coachId: r.key.slice(64), sourceSha256: r.key.slice(0, 64) }),
        { documentId: r.document_id, version: r.version, position: r.position },
      ]),
    );
  },

  async withSourcePaths(on, coachId, paths) {
    const { rows } = await on.query<{
      source_path: string;
      document_id: string;
      access_tier: string | null;
      status: 'active' | 'retired';
      version: number;
      position: string;
      source_sha256: string;
      metadata: Record<string, unknown>;
    }>(WITH_SOURCE_PATHS_SQL, [coachId, [...paths]]);
    return new Map(
      rows.map((r) => [
        r.source_path,
        {
          documentId: r.document_id,
          coachId,
          accessTier: r.access_tier,
          status: r.status,
          version: r.version,
          position: r.position,
          sourceSha256: r.source_sha256,
          metadata: r.metadata,
        },
      ]),
    );
  },

  async thenAndNow(on, coachId, asOf): Promise<DocumentThenAndNow[]> {
    const { rows } = await on.query<{
      document_id: string;
      now_status: DocumentThenAndNow['nowStatus'];
      now_version: number;
      then_version: number | null;
      then_status: DocumentThenAndNow['thenStatus'];
      same: boolean | null;
    }>(
      `WITH then_ AS (
         SELECT DISTINCT ON (v.document_id) v.document_id, v.version, v.status, v.title, v.content, v.metadata,
                v.file_sha256
         FROM document_versions v JOIN documents d USING (document_id)
         WHERE d.coach_id = $1 AND v.at <= $2::timestamptz
         ORDER BY v.document_id, v.version DESC)
       SELECT d.document_id::text, d.status AS now_status, d.version AS now_version, t.version AS then_version,
              t.status AS then_status,
              (t.title IS NOT DISTINCT FROM c.title AND t.content IS NOT DISTINCT FROM c.content
               AND t.metadata IS NOT DISTINCT FROM c.metadata AND t.file_sha256 IS NOT DISTINCT FROM c.file_sha256) AS same
       FROM documents d
       LEFT JOIN then_ t USING (document_id)
       LEFT JOIN document_versions c ON c.document_id = d.document_id AND c.version = d.version
       WHERE d.coach_id = $1
       ORDER BY d.document_id`,
      [coachId, asOf],
    );
    return rows.map((r) => ({
      documentId: r.document_id,
      nowStatus: r.now_status,
      nowVersion: r.now_version,
      thenVersion: r.then_version,
      thenStatus: r.then_status,
      same: r.same,
    }));
  },
};

/** The coach of each of these documents that has a row (another projection's lookup of an erased document). */
export async function coachesOfDocuments(
  on: SqlExecutor,
  documentIds: readonly string[],
): Promise<Map<string, string>> {
  const { rows } = await on.query<{ document_id: string; coach_id: string }>(COACHES_OF_DOCUMENTS_SQL, [
    [...documentIds],
  ]);
  return new Map(rows.map((r) => [r.document_id, r.coach_id]));
}
