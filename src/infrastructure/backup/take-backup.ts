import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { documentKeys, sealBytes } from '../documents/document-keys.js';
import { fileStore } from '../documents/file-store.js';
import { comparePositions, parsePosition } from '../event-store/position.js';
import type { SqlClient } from '../sql/sql-client.js';
import { BackupWriter } from './backup-file.js';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type Manifest } from './backup-format.js';
import {
  committedHead,
  cutAfter,
  erasureEvents,
  eventsBetween,
  urlSourceRows,
  versionFiles,
} from './store-reader.js';

export interface BackupOptions {
  file: string;
  /** Continue from this position (exclusive): an incremental backup. */
  since?: string | null;
  /** The backup `since` came from, recorded so that a chain can be checked link by link. */
  parent?: string | null;
  /** How long to wait for writes committed before the backup began to settle (default 30 s). */
  settleWaitMs?: number;
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
const SETTLE_WAIT_MS = 30_000;

/**
 * A consistent backup taken while writes go on, without a long transaction (the embedded database has one
 * session, and a snapshot held for minutes would stall it): the events up to the settled head are a fixed cut of
 * an append-only log. Keys and files are read after; a document erased meanwhile has lost them and is in the
 * erasure ledger, which is read last, so a restore erases it again.
 */
export async function takeBackup(sql: SqlClient, options: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const since = options.since ?? null;
  // Every write acknowledged before the backup began is in it, unless the server's horizon is held back longer.
  const head = await cutAfter(sql, await committedHead(sql), options.settleWaitMs ?? SETTLE_WAIT_MS);
  const until =
    head && (!since || comparePositions(parsePosition(head), parsePosition(since)) > 0) ? head : null;
  const identity = {
    backupId: randomUUID(),
    kind: since ? ('incremental' as const) : ('full' as const),
    since,
    parent: options.parent ?? null,
    createdAt: new Date().toISOString(),
    engine: sql.kind,
  };
  const writer = await BackupWriter.open(options.file, {
    t: 'header',
    format: BACKUP_FORMAT,
    version: BACKUP_FORMAT_VERSION,
    ...identity,
  });
  try {
    const run = new BackupRun(sql, writer, since, options.onProgress);
    const firstPosition = until ? await run.events(until) : null;
    const keys = await run.keys();
    const fileBytes = until ? await run.files(keys, until) : 0;
    for (const erasure of await erasureEvents(sql)) await writer.write(erasure);
    for (const row of await urlSourceRows(sql)) await writer.write({ t: 'source', row });
    run.report();
    const manifest = await writer.finish({ ...identity, firstPosition, lastPosition: until, fileBytes });
    const { size } = await stat(options.file);
    return { file: options.file, manifest, bytes: size, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** One backup's parts, written in the format's order. */
class BackupRun {
  private readonly documents = new Set<string>();
  private readonly progress = { events: 0, files: 0 };

  constructor(
    private readonly sql: SqlClient,
    private readonly writer: BackupWriter,
    private readonly since: string | null,
    private readonly onProgress: BackupOptions['onProgress'],
  ) {}

  report(): void {
    this.onProgress?.(this.progress);
  }

  /** The events of the cut; returns the first one's position. */
  async events(until: string): Promise<string | null> {
    let first: string | null = null;
    for await (const event of eventsBetween(this.sql, this.since, until)) {
      first ??= event.position;
      const documentId = (event.data as { documentId?: unknown } | null)?.documentId;
      if (typeof documentId === 'string') this.documents.add(documentId);
      await this.writer.write(event);
      if (++this.progress.events % 1_000 === 0) this.report();
    }
    return first;
  }

  /** The keys of the documents the events touch (an erased one has none left). */
  async keys(): Promise<Map<string, Buffer>> {
    const ids = [...this.documents];
    const all = new Map<string, Buffer>();
    for (let i = 0; i < ids.length; i += KEY_BATCH) {
      for (const [documentId, key] of await documentKeys.load(this.sql, ids.slice(i, i + KEY_BATCH))) {
        all.set(documentId, key);
        await this.writer.write({ t: 'key', documentId, key: key.toString('base64') });
      }
    }
    return all;
  }

  /** Each file once per document that refers to it, compressed then sealed with that document's key. */
  async files(keys: Map<string, Buffer>, until: string): Promise<number> {
    const ids = [...this.documents];
    let bytes = 0;
    for (let i = 0; i < ids.length; i += KEY_BATCH) {
      for (const { documentId, sha256 } of await versionFiles(
        this.sql,
        ids.slice(i, i + KEY_BATCH),
        this.since,
        until,
      )) {
        const key = keys.get(documentId);
        const file = key && (await fileStore.get(this.sql, sha256));
        if (!key || !file) continue; // erased since the cut: its erasure is in the ledger
        const sealed = sealBytes(key, gzipSync(file.bytes)).toString('base64');
        await this.writer.write({
          t: 'file',
          documentId,
          sha256,
          contentType: file.contentType,
          size: file.size,
          sealed,
        });
        bytes += file.size;
        if (++this.progress.files % 100 === 0) this.report();
      }
    }
    return bytes;
  }
}
