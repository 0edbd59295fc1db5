import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { documentKeys, sealBytes } from '../documents/document-keys.js';
import { fileStore } from '../documents/file-store.js';
import { comparePositions, parsePosition } from '../event-store/position.js';
import type { SqlClient } from '../sql/sql-client.js';
import { BackupWriter } from './backup-file.js';
import type { Manifest } from './backup-format.js';
import { erasureEvents, eventsBetween, settledHead, urlSourceRows, versionFiles } from './store-reader.js';

export interface BackupOptions {
  file: string;
  /** Continue from this position (exclusive): an incremental backup. */
  since?: string | null;
  /** The backup `since` came from, recorded so that a chain can be checked link by link. */
  parent?: string | null;
  onProgress?: (done: { events: number; files: number }) => void;
}

export interface BackupResult {
  file: string;
  manifest: Manifest;
  /** Size of the backup file. */
  bytes: number;
  seconds: number;
}

const KEY_BATCH = 1_000;

/**
 * A consistent backup taken while writes go on, without a long transaction (the embedded database has one
 * session, and a snapshot held for minutes would stall it): the events up to the settled head are a fixed cut of
 * an append-only log. Keys and files are read after; a document erased meanwhile has lost them and is in the
 * erasure ledger, which is read last, so a restore erases it again.
 */
export async function takeBackup(sql: SqlClient, options: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const since = options.since ?? null;
  const head = await settledHead(sql);
  const until =
    head && (!since || comparePositions(parsePosition(head), parsePosition(since)) > 0) ? head : null;
  const createdAt = new Date().toISOString();
  const identity = {
    backupId: randomUUID(),
    kind: since ? ('incremental' as const) : ('full' as const),
    since,
    parent: options.parent ?? null,
    createdAt,
    engine: sql.kind,
  };
  const writer = await BackupWriter.open(options.file, {
    t: 'header',
    format: 'docsvc-backup',
    version: 1,
    ...identity,
  });
  try {
    const progress = { events: 0, files: 0 };
    const documents = new Set<string>();
    let firstPosition: string | null = null;
    if (until) {
      for await (const event of eventsBetween(sql, since, until)) {
        firstPosition ??= event.position;
        const documentId = (event.data as { documentId?: unknown } | null)?.documentId;
        if (typeof documentId === 'string') documents.add(documentId);
        await writer.write(event);
        if (++progress.events % 1_000 === 0) options.onProgress?.(progress);
      }
    }
    const keys = await writeKeys(sql, writer, [...documents]);
    const fileBytes = until
      ? await writeFiles(sql, writer, keys, [...documents], since, until, progress, options)
      : 0;
    for (const erasure of await erasureEvents(sql)) await writer.write(erasure);
    for (const row of await urlSourceRows(sql)) await writer.write({ t: 'source', row });
    options.onProgress?.(progress);
    const manifest = await writer.finish({
      ...identity,
      firstPosition,
      lastPosition: until,
      fileBytes,
    });
    const { size } = await stat(options.file);
    return { file: options.file, manifest, bytes: size, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function writeKeys(sql: SqlClient, writer: BackupWriter, ids: string[]): Promise<Map<string, Buffer>> {
  const all = new Map<string, Buffer>();
  for (let i = 0; i < ids.length; i += KEY_BATCH) {
    const keys = await documentKeys.load(sql, ids.slice(i, i + KEY_BATCH));
    for (const [documentId, key] of keys) {
      all.set(documentId, key);
      await writer.write({ t: 'key', documentId, key: key.toString('base64') });
    }
  }
  return all;
}

/** Each file once per document that refers to it, compressed then sealed with that document's key. */
async function writeFiles(
  sql: SqlClient,
  writer: BackupWriter,
  keys: Map<string, Buffer>,
  ids: string[],
  since: string | null,
  until: string,
  progress: { events: number; files: number },
  options: BackupOptions,
): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < ids.length; i += KEY_BATCH) {
    for (const { documentId, sha256 } of await versionFiles(sql, ids.slice(i, i + KEY_BATCH), since, until)) {
      const key = keys.get(documentId);
      const file = key && (await fileStore.get(sql, sha256));
      if (!key || !file) continue; // erased since the cut: its erasure is in the ledger
      const sealed = sealBytes(key, gzipSync(file.bytes));
      await writer.write({
        t: 'file',
        documentId,
        sha256,
        contentType: file.contentType,
        size: file.size,
        sealed: sealed.toString('base64'),
      });
      bytes += file.size;
      if (++progress.files % 100 === 0) options.onProgress?.(progress);
    }
  }
  return bytes;
}
