import type { Snapshot } from '../../domain/document/document.js';
import { documentKeys } from '../../infrastructure/documents/document-keys.js';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.js';
import type { ChunksVersionConfig } from '../chunks/chunks.projection.js';
import { VERSION_EVENT_TYPES } from '../chunks/pending-work.js';
import { openDocumentEvents, type OpenedEvent } from '../documents/open-document-events.js';
import { compareChunks, readChunkState } from './chunk-check.js';
import {
  documentOf,
  documentStreamPages,
  holdStreams,
  readStreamsVia,
  streamOf,
} from './document-streams.js';
import type { MaintenanceContext } from './maintenance-context.js';
import type { TaskOutcome } from './maintenance-report.js';
import { ConsistencyTally } from './consistency-tally.js';
import { repairChunks, repairInlineReadModels, type RepairOutcome } from './read-model-repair.js';
import { compareInlineReadModels, type Difference } from './replay-compare.js';

/** Documents read, replayed and compared at a time (their events are in memory together). */
export const BATCH_DOCUMENTS = 50;

const VERSION_EVENTS = new Set(VERSION_EVENT_TYPES);

/**
 * Every document's read models against a replay of its events: `documents` and `document_versions` field by
 * field (replay-compare.ts), and this configuration's chunks per version, by count, content and which version
 * is current (chunk-check.ts). What differs is reported (document, read model, version, field: never content)
 * and repaired from the events (read-model-repair.ts). Documents go in batches of BATCH_DOCUMENTS in stream
 * order, so memory stays bounded whatever the corpus. On the way, the files that the documents' versions refer
 * to are collected from the events, for the orphaned-files task.
 */
export async function checkConsistency(ctx: MaintenanceContext): Promise<TaskOutcome> {
  const tally = new ConsistencyTally(ctx.logger);
  const fileRefs = new Set<string>();
  const check = async (streamIds: string[]) => {
    const batch = await checkBatch(ctx, streamIds);
    tally.documents += streamIds.length;
    tally.chunkVersions += batch.chunkVersions;
    tally.chunksNotYetProjected += batch.chunksNotYetProjected;
    for (const sha of batch.fileRefs) fileRefs.add(sha);
    await repairAll(ctx, batch.differences, tally);
  };
  for await (const streamIds of documentStreamPages(ctx.sql, BATCH_DOCUMENTS)) {
    // A document whose events cannot be read fails its whole batch: each is then checked alone, so that the
    // others are still checked and only it is reported.
    await check(streamIds).catch(async () => {
      for (const one of streamIds)
        await check([one]).catch((error: Error) => tally.batchFailed([one], error));
    });
  }
  // Which files are referred to is known only if every document's events were read.
  ctx.fileRefs = tally.everyDocumentRead ? fileRefs : undefined;
  return tally.outcome();
}

interface BatchResult {
  differences: Difference[];
  chunkVersions: number;
  chunksNotYetProjected: number;
  fileRefs: string[];
}

/**
 * One transaction, with the batch's streams held: the events, the replay of the inline read models compared
 * with the stored rows, and the chunks with the projector's checkpoint. A document without its key (and not
 * erased) is not replayed: it is reported.
 */
async function readBatch(ctx: MaintenanceContext, streamIds: string[]) {
  return ctx.sql.transaction(async (tx) => {
    await holdStreams(tx, streamIds);
    const events = await readStreamsVia(tx, ctx.registry, streamIds);
    const ids = streamIds.map(documentOf);
    const keys = await documentKeys.load(tx, ids);
    const erased = new Set(ids.filter((id) => eventsOf(events, id).some((e) => e.type === 'DocumentErased')));
    const readable = ids.filter((id) => erased.has(id) || keys.has(id));
    const replayed = readable.flatMap((id) => eventsOf(events, id));
    const differences = await compareInlineReadModels(tx, replayed, readable);
    const chunks = await readChunkState(tx, ctx.chunks.projection, streamIds, ids);
    return { events, ids, erased, readable: new Set(readable), differences, chunks };
  });
}

/** The batch read, then each readable document that is not erased: its files, and its chunks chunked again. */
async function checkBatch(ctx: MaintenanceContext, streamIds: string[]): Promise<BatchResult> {
  const read = await readBatch(ctx, streamIds);
  const result: BatchResult = {
    differences: [...read.differences],
    chunkVersions: 0,
    chunksNotYetProjected: 0,
    fileRefs: [],
  };
  const chunker = (ctx.chunks.projection.config as unknown as ChunksVersionConfig).chunkerConfig;
  for (const id of read.ids) {
    if (!read.readable.has(id))
      result.differences.push({ documentId: id, readModel: 'document_keys', field: 'key missing' });
    if (!read.readable.has(id) || read.erased.has(id)) continue;
    const opened = await openDocumentEvents(ctx.sql, eventsOf(read.events, id));
    result.fileRefs.push(...filesOf(opened));
    if (!read.chunks.started || !read.chunks.covered.has(streamOf(id))) {
      result.chunksNotYetProjected++;
      continue;
    }
    const chunks = await compareChunks(id, opened, read.chunks, chunker);
    result.chunkVersions += chunks.versions;
    result.differences.push(...chunks.differences);
  }
  return result;
}

/** The files a document's versions name (every version: any of them can be read back with its file). */
function filesOf(opened: readonly OpenedEvent[]): string[] {
  return opened.flatMap(({ event }) => {
    if (!VERSION_EVENTS.has(event.type)) return [];
    const file = (event.data as { snapshot: Snapshot }).snapshot.file;
    return file ? [file.sha256] : [];
  });
}

const eventsOf = (events: Map<string, RecordedEvent[]>, id: string) => events.get(streamOf(id)) ?? [];

/** Each document that differs is repaired once per read model: its inline read models, then its chunks. */
async function repairAll(ctx: MaintenanceContext, differences: Difference[], tally: ConsistencyTally) {
  const byDocument = new Map<string, Difference[]>();
  for (const d of differences) byDocument.set(d.documentId, [...(byDocument.get(d.documentId) ?? []), d]);
  for (const [documentId, found] of byDocument) {
    const inline = found.filter((d) => d.readModel === 'documents' || d.readModel === 'document_versions');
    const chunks = found.filter((d) => d.readModel === 'chunks');
    const keys = found.filter((d) => d.readModel === 'document_keys');
    if (keys.length > 0) tally.unrepairable(keys, 'its events cannot be read without its key');
    if (inline.length > 0) tally.record(inline, await attempt(() => repairInlineReadModels(ctx, documentId)));
    if (chunks.length > 0) tally.record(chunks, await attempt(() => repairChunks(ctx, documentId)));
  }
}

async function attempt(repair: () => Promise<RepairOutcome>): Promise<RepairOutcome | Error> {
  try {
    return await repair();
  } catch (error) {
    return error as Error;
  }
}
