/**
 * `verifyWrites`: reads the database itself after a mixed load (reliability/support/mixed-load.ts): every
 * acknowledged write is in the event log exactly once (its stream, its version, its position), no stream holds an
 * event nobody acknowledged, the coach got no upload since the run began beyond those acknowledged, the documents
 * read model holds the last acknowledged version and its marker, and the current chunks are not duplicated and
 * belong to that version.
 */
import type { SqlExecutor } from '../../src/infrastructure/sql/sql-client.js';
import type { Ack } from './mixed-load.js';

export interface Verification {
  acknowledged: number;
  uploads: number;
  edits: number;
  /** Acknowledged writes without their event (stream, version) in the log, or with another position or type. */
  lost: number;
  /**
   * Events in the acknowledged documents' streams that no acknowledgement accounts for, plus uploads of the coach
   * since the run began beyond those acknowledged (a document created twice, or never acknowledged).
   */
  duplicated: number;
  /** Of `duplicated`: the uploads beyond those acknowledged. */
  unacknowledgedUploads: number;
  /** Documents whose read model does not hold the last acknowledged version and its marker. */
  readModelWrong: number;
  /** Sets of current chunks with the same document, version and chunk index (over the whole table). */
  duplicateChunks: number;
  /** Acknowledged documents with current chunks of another version than the last, or without any current chunk. */
  chunksWrong: number;
  details: string[];
}

const expectedType = (a: Ack) => (a.kind === 'upload' ? 'DocumentUploaded' : 'DocumentEdited');

/** The run's uploads: the coach they went to and when the run began, with the uploads whose outcome is unknown. */
export interface UploadScope {
  coachId: string;
  startedAt: string;
  uncertainUploads: number;
}

/**
 * Checks the acknowledged writes against the database itself (after the projectors have caught up). With `scope`,
 * also counts the coach's uploads in the log since the run began against those acknowledged.
 */
export async function verifyWrites(
  sql: SqlExecutor,
  acks: Ack[],
  uncertain: string[] = [],
  scope?: UploadScope,
): Promise<Verification> {
  const v: Verification = {
    acknowledged: acks.length,
    uploads: acks.filter((a) => a.kind === 'upload').length,
    edits: acks.filter((a) => a.kind === 'edit').length,
    lost: 0,
    duplicated: 0,
    unacknowledgedUploads: 0,
    readModelWrong: 0,
    duplicateChunks: 0,
    chunksWrong: 0,
    details: [],
  };
  const detail = (s: string) => void (v.details.length < 20 && v.details.push(s));
  const byDoc = new Map<string, Ack[]>();
  for (const a of acks) byDoc.set(a.documentId, [...(byDoc.get(a.documentId) ?? []), a]);
  const ids = [...byDoc.keys()];
  const unsure = new Set(uncertain);

  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    const { rows } = await sql.query<{ id: string; version: number; type: string; position: string }>(
      `SELECT substr(stream_id, 10) AS id, stream_position::int AS version, type,
              transaction_id::text || '.' || global_position::text AS position
       FROM events WHERE stream_id = ANY($1::text[])`,
      [part.map((id) => `document-${id}`)],
    );
    const events = new Map<string, Array<(typeof rows)[number]>>();
    for (const r of rows) events.set(r.id, [...(events.get(r.id) ?? []), r]);
    for (const id of part) {
      const mine = byDoc.get(id)!;
      const logged = events.get(id) ?? [];
      for (const a of mine) {
        const found = logged.filter((e) => e.version === a.version);
        if (found.length !== 1 || found[0]!.position !== a.position || found[0]!.type !== expectedType(a)) {
          v.lost++;
          detail(`lost: ${a.kind} ${id} v${a.version} at ${a.position}: log has ${JSON.stringify(found)}`);
        }
      }
      // Every version in the stream is one acknowledged write; the same version acknowledged twice is a duplicate.
      const versions = new Set(mine.map((a) => a.version));
      const extra = logged.filter((e) => !versions.has(e.version)).length + (mine.length - versions.size);
      if (extra > 0 && !unsure.has(id)) {
        v.duplicated += extra;
        detail(`duplicated: ${id}: ${logged.length} events for ${mine.length} acknowledged writes`);
      }
    }
    const docs = await sql.query<{ id: string; version: number; content: string | null; status: string }>(
      'SELECT document_id::text AS id, version, content, status FROM documents WHERE document_id = ANY($1::uuid[])',
      [part],
    );
    const read = new Map(docs.rows.map((d) => [d.id, d]));
    const chunks = await sql.query<{ id: string; version: number; n: number }>(
      `SELECT document_id::text AS id, version, count(*)::int AS n FROM chunks
       WHERE is_current AND document_id = ANY($1::uuid[]) GROUP BY 1, 2`,
      [part],
    );
    const chunkVersions = new Map<string, number[]>();
    for (const c of chunks.rows) chunkVersions.set(c.id, [...(chunkVersions.get(c.id) ?? []), c.version]);
    for (const id of part) {
      if (unsure.has(id)) continue;
      const last = byDoc.get(id)!.reduce((a, b) => (b.version > a.version ? b : a));
      const d = read.get(id);
      if (!d || d.version !== last.version || d.status !== 'active' || !d.content?.includes(last.marker)) {
        v.readModelWrong++;
        detail(
          `read model: ${id}: expected v${last.version} with ${last.marker}, has v${d?.version} ${d?.status}`,
        );
      }
      const cv = chunkVersions.get(id) ?? [];
      if (cv.length !== 1 || cv[0] !== last.version) {
        v.chunksWrong++;
        detail(
          `chunks: ${id}: expected current chunks of v${last.version} only, has versions [${cv.join(', ')}]`,
        );
      }
    }
  }
  if (scope) {
    const { rows } = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events
       WHERE type = 'DocumentUploaded' AND data->>'coachId' = $1 AND created_at >= $2::timestamptz`,
      [scope.coachId, scope.startedAt],
    );
    const extra = rows[0]!.n - v.uploads;
    // An upload that failed unclearly may have committed: up to that many extra are not counted.
    if (extra > scope.uncertainUploads) {
      v.unacknowledgedUploads = extra - scope.uncertainUploads;
      v.duplicated += v.unacknowledgedUploads;
      detail(
        `${rows[0]!.n} uploads of ${scope.coachId} in the log since ${scope.startedAt}, ${v.uploads} acknowledged`,
      );
    }
  }
  const dup = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM chunks WHERE is_current
       GROUP BY document_id, version, chunk_index HAVING count(*) > 1) d`,
  );
  v.duplicateChunks = dup.rows[0]!.n;
  if (v.duplicateChunks > 0)
    detail(`${v.duplicateChunks} duplicated (document, version, chunk_index) among current chunks`);
  return v;
}

export const verified = (v: Verification): boolean =>
  v.lost === 0 &&
  v.duplicated === 0 &&
  v.readModelWrong === 0 &&
  v.duplicateChunks === 0 &&
  v.chunksWrong === 0;
