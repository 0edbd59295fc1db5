import { createHash } from 'node:crypto';
import type { Snapshot } from '../../domain/document/document.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { timeSlice } from '../../infrastructure/time-slice.js';
import type { OpenedEvent } from '../documents/open-document-events.js';
import type { Chunk, ChunkerConfig } from '../chunks/chunker.js';
import { chunkOffThread } from '../chunks/chunker-thread.js';
import type { ChunksProjection } from '../chunks/chunks.projection.js';
import { VERSION_EVENT_TYPES } from '../chunks/pending-work.js';
import type { Difference } from './replay-compare.js';

/** What one version's chunks are: how many, which of them current, and a hash of their titles and texts. */
interface VersionChunks {
  count: number;
  current: number;
  hash: string;
}

/** The chunks of a batch of documents as stored, read with the projector's checkpoint in one snapshot. */
export interface ChunkState {
  /** The configuration has a checkpoint (its projector has started). */
  started: boolean;
  /** Streams every event of which is at or before the checkpoint: the projector is done with them. */
  covered: Set<string>;
  /** Events the projector set aside (dead letters): their versions have no chunks. */
  dead: Set<string>;
  byDocument: Map<string, Map<number, VersionChunks>>;
}

/**
 * One statement, so one snapshot: the projector commits a batch's chunks with its checkpoint, so chunks and
 * checkpoint read together agree. A document with events past the checkpoint is not compared (its chunks may be
 * half-written by steps that have committed before the checkpoint's): it is compared by the next run.
 */
export async function readChunkState(
  tx: SqlExecutor,
  projection: ChunksProjection,
  streamIds: readonly string[],
  documentIds: readonly string[],
): Promise<ChunkState> {
  const { rows } = await tx.query<{ started: boolean; covered: string[]; dead: string[]; chunks: Row[] }>(
    `WITH cp AS (SELECT position_tx, position_seq FROM projection_checkpoints WHERE name = $1 AND version = $2)
     SELECT EXISTS (SELECT 1 FROM cp) AS started,
       (SELECT coalesce(jsonb_agg(s.stream_id), '[]') FROM (
          SELECT e.stream_id FROM events e, cp WHERE e.stream_id = ANY ($3::text[]) GROUP BY e.stream_id
          HAVING bool_and((e.transaction_id, e.global_position) <= (cp.position_tx, cp.position_seq))) s) AS covered,
       (SELECT coalesce(jsonb_agg(d.event_id::text), '[]') FROM projection_dead_letters d
          WHERE d.projection = $1 AND d.version = $2 AND d.stream_id = ANY ($3::text[])) AS dead,
       (SELECT coalesce(jsonb_agg(v), '[]') FROM (
          SELECT document_id::text AS id, version, count(*)::int AS count,
            (count(*) FILTER (WHERE is_current))::int AS current,
            encode(sha256(convert_to(string_agg(title || chr(31) || content, chr(30) ORDER BY chunk_index), 'UTF8')), 'hex') AS hash
          FROM chunks WHERE document_id = ANY ($4::uuid[]) AND space = $5 AND chunker = $6
          GROUP BY document_id, version) v) AS chunks`,
    [
      projection.name,
      projection.version,
      [...streamIds],
      [...documentIds],
      projection.space,
      projection.chunker,
    ],
  );
  const row = rows[0]!;
  const byDocument = new Map<string, Map<number, VersionChunks>>();
  for (const { id, version, ...chunks } of row.chunks) {
    const versions = byDocument.get(id) ?? new Map<number, VersionChunks>();
    byDocument.set(id, versions.set(version, chunks));
  }
  return { started: row.started, covered: new Set(row.covered), dead: new Set(row.dead), byDocument };
}

type Row = VersionChunks & { id: string; version: number };

const VERSION_EVENTS = new Set(VERSION_EVENT_TYPES);

/** The same hash as readChunkState's, of chunks made now. */
function hashOf(title: string, chunks: readonly Chunk[]): string {
  const hash = createHash('sha256');
  chunks.forEach((c, i) => hash.update(`${i > 0 ? '\x1e' : ''}${title}\x1f${c.content}`));
  return hash.digest('hex');
}

/**
 * One document's chunks against its events: each version event (not set aside) is chunked again with the
 * configuration's chunker, and its stored chunks must be as many, with the same titles and texts in order; the
 * last version is current unless a retirement came after it. Returns the differences and the versions compared.
 */
export async function compareChunks(
  documentId: string,
  opened: readonly OpenedEvent[],
  state: ChunkState,
  chunker: ChunkerConfig,
): Promise<{ differences: Difference[]; versions: number }> {
  const expected = new Map<number, VersionChunks>();
  let current: number | undefined;
  const slice = timeSlice();
  for (const { recorded, event } of opened) {
    if (event.type === 'DocumentRetired') current = undefined;
    if (!VERSION_EVENTS.has(event.type) || state.dead.has(recorded.eventId)) continue;
    const { snapshot } = event.data as { snapshot: Snapshot };
    const chunks = await chunkOffThread(snapshot, chunker);
    expected.set(recorded.streamPosition, {
      count: chunks.length,
      current: 0,
      hash: hashOf(snapshot.title, chunks),
    });
    current = recorded.streamPosition;
    await slice();
  }
  if (current !== undefined) expected.get(current)!.current = expected.get(current)!.count;
  const stored = state.byDocument.get(documentId) ?? new Map<number, VersionChunks>();
  const differences: Difference[] = [];
  const versions = [...new Set([...expected.keys(), ...stored.keys()])].sort((a, b) => a - b);
  for (const version of versions) {
    const e = expected.get(version) ?? { count: 0, current: 0, hash: '' };
    const s = stored.get(version) ?? { count: 0, current: 0, hash: '' };
    const at = { documentId, readModel: 'chunks' as const, version };
    if (e.count !== s.count) differences.push({ ...at, field: 'count' });
    else if (e.hash !== s.hash) differences.push({ ...at, field: 'content' });
    if (e.current !== s.current) differences.push({ ...at, field: 'is_current' });
  }
  return { differences, versions: expected.size };
}
