import { deleteCounted, type MaintenanceContext } from './maintenance-context.js';
import { formatBytes, nothingDone, skipped, type TaskOutcome } from './maintenance-report.js';

/** A file is unreferenced when no row of the read models names it (the events are checked apart). */
const UNREFERENCED = `NOT EXISTS (SELECT 1 FROM document_versions v WHERE v.file_sha256 = t.sha256)
  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.file_sha256 = t.sha256)`;

/**
 * Stored files (`files`, by SHA-256) that no version of a document that is not erased refers to: neither in its
 * events (the consistency check read them all, and collected every file they name) nor in the read models, and
 * stored before the run began. An erasure deletes its document's files unless another document shares them;
 * what is left is the bytes of a failed write or of an erasure cut short. They are deleted under a lock that
 * waits for the uploads storing a file to commit, and that those wait for: an upload of the same bytes, which
 * stores nothing new, cannot commit a reference to a file deleted under it. Skipped when the consistency check
 * could not read every document's events (one failed, or has no key): a reference it missed could be the only
 * one left to the original bytes.
 */
export async function removeOrphanFiles(ctx: MaintenanceContext): Promise<TaskOutcome> {
  const refs = ctx.fileRefs;
  if (!refs)
    return skipped(
      "the consistency check could not read every document's events: not every reference is known",
    );
  const { rows } = await ctx.sql.query<{ sha: string }>(
    `SELECT t.sha256 AS sha FROM files t WHERE t.created_at < $1 AND ${UNREFERENCED}`,
    [ctx.startedAt],
  );
  const orphans = rows.map((r) => r.sha).filter((sha) => !refs.has(sha));
  if (orphans.length === 0) return nothingDone('no orphaned file', { files: 0 });
  const removed = await ctx.sql.transaction(async (tx) => {
    await tx.query('LOCK TABLE files IN SHARE ROW EXCLUSIVE MODE');
    return deleteCounted(tx, 'files', `t.sha256 = ANY ($1::text[]) AND ${UNREFERENCED}`, [orphans], 't.size');
  });
  return {
    status: 'succeeded',
    summary: `${removed.rows} orphaned file(s) removed (${formatBytes(removed.bytes)})`,
    ...removed,
    details: { files: removed.rows },
  };
}
