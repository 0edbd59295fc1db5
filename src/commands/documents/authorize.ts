import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { canSeeCoach, canSeeTier, type Principal } from '../../domain/access.js';
import { DocumentNotFoundError } from '../../domain/document/errors.js';

export interface DocumentHead {
  documentId: string;
  coachId: string;
  accessTier: string | null;
  status: 'active' | 'retired' | 'erased';
  version: number;
  position: string;
}

/**
 * The document as the caller may know it. Another coach's document, or a premium one for a free reader, is a
 * 404 exactly like one that does not exist: existence must not leak.
 */
export async function visibleDocument(
  on: SqlExecutor,
  principal: Principal,
  documentId: string,
): Promise<DocumentHead> {
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
  if (!row || !canSeeCoach(principal, row.coach_id) || !canSeeTier(principal, row.access_tier))
    throw new DocumentNotFoundError(documentId);
  return {
    documentId,
    coachId: row.coach_id,
    accessTier: row.access_tier,
    status: row.status,
    version: row.version,
    position: row.position,
  };
}
