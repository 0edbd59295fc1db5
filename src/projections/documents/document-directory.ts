import type { DocumentThenAndNow } from '../../domain/document/restore-plan.js';
import type { DocumentDirectory, DocumentHead } from '../../infrastructure/documents/document-directory.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

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
    const { rows } = await on.query<{ key: string; document_id: string; version: number; position: string }>(
      `SELECT DISTINCT ON (d.coach_id, d.source_sha256) d.coach_id || ':' || d.source_sha256 AS key,
              d.document_id::text, d.version, d.position
       FROM documents d
       JOIN jsonb_to_recordset($1::jsonb) AS s("coachId" text, "sourceSha256" text)
         ON d.coach_id = s."coachId" AND d.source_sha256 = s."sourceSha256"
       WHERE d.status = 'active'
       ORDER BY d.coach_id, d.source_sha256, d.created_at`,
      [JSON.stringify(sources.map(({ coachId, sourceSha256 }) => ({ coachId, sourceSha256 })))],
    );
    return new Map(
      rows.map((r) => [r.key, { documentId: r.document_id, version: r.version, position: r.position }]),
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
  const { rows } = await on.query<{ document_id: string; coach_id: string }>(
    `SELECT document_id::text, coach_id FROM documents
     WHERE document_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)`,
    [JSON.stringify(documentIds)],
  );
  return new Map(rows.map((r) => [r.document_id, r.coach_id]));
}
