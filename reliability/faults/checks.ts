/**
 * The read-side checks of the fault scenarios (duplicates, gaps, digests, catch-up), made on the database itself
 * rather than through the service, so that they hold whatever state the service was killed in.
 */
import type { Database } from './databases.js';

/** The chunks projection is live and its checkpoint has passed every committed event. */
export async function chunksCaughtUp(db: Database): Promise<boolean> {
  const [row] = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM projection_checkpoints c WHERE c.name = 'chunks' AND c.status = 'live'
              AND c.rebuild_requested_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM events e
                              WHERE (e.transaction_id, e.global_position) > (c.position_tx, c.position_seq))) AS ok`,
  );
  return row!.ok;
}

export interface ChunkAnomalies {
  /** Rows sharing (space, chunker, document, version, index): the table's unique key forbids them. */
  sameKey: number;
  /** Two chunks of one version over the same text range (the same chunk written twice under two indexes). */
  sameRange: number;
  /** Versions whose chunk indexes are not 0..n-1. */
  gappedVersions: number;
  /** Documents with current chunks of more than one version. */
  mixedCurrent: number;
  /** Active documents (of `coachId`, or all) whose current version has no current chunk. */
  activeWithoutChunks: number;
  /** Current chunks of a version that is not its document's current one, or of a document not active. */
  staleCurrent: number;
  deadLetters: number;
}

export async function chunkAnomalies(db: Database, coachId?: string): Promise<ChunkAnomalies> {
  const coach = coachId ? `AND coach_id = '${coachId.replace(/'/g, "''")}'` : '';
  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql))[0]!.n);
  return {
    sameKey: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE true ${coach}
      GROUP BY space, chunker, document_id, version, chunk_index HAVING count(*) > 1) x`),
    sameRange: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE true ${coach}
      GROUP BY space, chunker, document_id, version, start_char, end_char HAVING count(*) > 1) x`),
    gappedVersions: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE true ${coach}
      GROUP BY space, chunker, document_id, version
      HAVING count(*) <> max(chunk_index) + 1 OR min(chunk_index) <> 0) x`),
    mixedCurrent: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE is_current ${coach}
      GROUP BY space, chunker, document_id HAVING count(DISTINCT version) > 1) x`),
    activeWithoutChunks: await count(`SELECT count(*) AS n FROM documents d WHERE d.status = 'active' ${coach}
      AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.document_id AND c.version = d.version
                      AND c.is_current)`),
    staleCurrent:
      await count(`SELECT count(*) AS n FROM chunks c WHERE c.is_current ${coach.replace('coach_id', 'c.coach_id')}
      AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.document_id = c.document_id AND d.version = c.version
                      AND d.status = 'active')`),
    deadLetters: await count(`SELECT count(*) AS n FROM projection_dead_letters`),
  };
}

export const anomalyTotal = (a: ChunkAnomalies): number => Object.values(a).reduce((s, n) => s + n, 0);

/**
 * Digests of the read models, row by row in a fixed order, without what a rebuild may renumber (chunk ids):
 * two equal digests are two equal read models.
 */
export async function readModelDigests(db: Database): Promise<Record<string, string>> {
  const digest = async (sql: string) => (await db.query<{ d: string | null }>(sql))[0]!.d ?? 'empty';
  return {
    documents: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t.document_id)) AS d FROM documents t`,
    ),
    document_versions: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t.document_id, t.version)) AS d FROM document_versions t`,
    ),
    chunks: await digest(
      `SELECT md5(string_agg(concat_ws(',', space, chunker, document_id, version, chunk_index, coach_id, md5(title),
         md5(content), start_char, end_char, section, page, access_tier, document_type, tags::text, publication_date,
         metadata::text, embedded_sha256, valid_from, valid_from_at, valid_to, valid_to_at, is_current,
         md5(embedding::text)), '|' ORDER BY space, chunker, document_id, version, chunk_index)) AS d FROM chunks`,
    ),
    chunk_stats: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY space, chunker, coach_id, access_tier)) AS d FROM chunk_stats t`,
    ),
    chunk_lexemes: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY space, chunker, coach_id, lexeme, access_tier)) AS d
       FROM chunk_lexemes t WHERE df > 0`,
    ),
  };
}

/** Each document's current chunks as `path|index|content hash|vector hash`, sorted: comparable across coaches. */
export async function chunksByPath(db: Database, coachId: string): Promise<string[]> {
  const rows = await db.query<{ line: string }>(
    `SELECT d.source_path || '|' || c.chunk_index || '|' || md5(c.content) || '|' || md5(c.embedding::text) AS line
     FROM chunks c JOIN documents d ON d.document_id = c.document_id
     WHERE c.is_current AND d.coach_id = $1 ORDER BY 1`,
    [coachId],
  );
  return rows.map((r) => r.line);
}

/** The items of `a` missing from `b`, as a count (multisets). */
export function missingFrom(a: readonly string[], b: readonly string[]): number {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  let missing = 0;
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n === 0) missing++;
    else left.set(x, n - 1);
  }
  return missing;
}
