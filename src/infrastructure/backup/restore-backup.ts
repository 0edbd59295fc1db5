import { gunzipSync } from 'node:zlib';
import { documentKeys, unsealBytes } from '../documents/document-keys.js';
import { fileStore, sha256 } from '../documents/file-store.js';
import type { SqlClient } from '../sql/sql-client.js';
import { readBackup } from './backup-file.js';
import { BackupError, type StoredEvent, type FileRecord, type SourceRecord } from './backup-format.js';
import { EventLoader } from './event-loader.js';
import { erasureEvents } from './store-reader.js';
import { verifyChain } from './verify-backup.js';

export interface RestoreOptions {
  /** Restore into a store that holds data (it is emptied first; its own erasures are kept as ledger). */
  force?: boolean;
  /** Erasure ledgers: the service's ledger file or any later backup. */
  ledgers?: readonly string[];
  onProgress?: (line: string) => void;
}

export interface RestoreResult {
  links: number;
  events: number;
  files: number;
  /** Erasures the chain did not hold but a ledger did, appended again. */
  erasuresReapplied: number;
  /** Documents whose keys and files were left out because they are erased. */
  erasedDocuments: number;
  lastPosition: string | null;
}

/** The tables a backup holds; the read models are rebuilt from the events afterwards. */
const STORE_TABLES = ['events', 'streams', 'idempotency_keys', 'document_keys', 'files', 'url_sources'];

/**
 * Restores a chain (a full backup and its incrementals) into an empty store. Every file is verified whole
 * before anything is written, so a damaged or broken chain writes nothing. Keys and files of every document that
 * the chain or a ledger records as erased are never written, and an erasure the chain lacks is appended again:
 * erased content does not come back.
 */
export async function restoreBackups(
  sql: SqlClient,
  files: readonly string[],
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const say = options.onProgress ?? (() => undefined);
  say(`verifying ${files.length} file(s)`);
  const started = performance.now();
  const chain = await verifyChain(files, { fromFull: true, ledgers: options.ledgers });
  say(`verified in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await emptyTarget(sql, chain.erasures, options.force ?? false);
  const erased = new Set(chain.erasures.keys());
  const loader = new EventLoader(sql);
  const keys = new Map<string, Buffer>();
  let restoredFiles = 0;
  for (const link of chain.links) {
    say(`restoring ${link.file}`);
    for await (const record of readBackup(link.file, () => undefined)) {
      if (record.t === 'event') await loader.add(record);
      else if (record.t === 'key' && !erased.has(record.documentId)) {
        await loader.flush();
        const key = Buffer.from(record.key, 'base64');
        keys.set(record.documentId, key);
        await sql.query(
          `INSERT INTO document_keys (document_id, key) VALUES ($1, decode($2, 'base64')) ON CONFLICT DO NOTHING`,
          [record.documentId, record.key],
        );
      } else if (record.t === 'file' && !erased.has(record.documentId)) {
        restoredFiles += await restoreFile(sql, record, keys, link.file);
      } else if (record.t === 'source' && !erased.has(String(record.row.document_id))) {
        await restoreSource(sql, record);
      }
      await loader.flushIfFull();
    }
    await loader.flush();
    say(`restored ${link.file}: ${loader.count.toLocaleString('en-US')} events so far`);
  }
  const reapplied = await reapplyErasures(sql, loader, chain.erasures);
  for (const documentId of erased) await documentKeys.destroy(sql, documentId);
  const last = chain.links[chain.links.length - 1]!.manifest;
  return {
    links: chain.links.length,
    events: loader.count,
    files: restoredFiles,
    erasuresReapplied: reapplied,
    erasedDocuments: erased.size,
    lastPosition: last.lastPosition ?? last.since,
  };
}

async function emptyTarget(
  sql: SqlClient,
  erasures: Map<string, StoredEvent>,
  force: boolean,
): Promise<void> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) e)::int + (SELECT count(*) FROM (SELECT 1 FROM files LIMIT 1) f)::int AS n`,
  );
  if ((rows[0]?.n ?? 0) === 0) return;
  if (!force)
    throw new BackupError(
      'RESTORE_TARGET_NOT_EMPTY',
      'the target store holds events or files; restore into an empty database, or pass --force to replace it',
    );
  // The store being replaced may know of erasures the backups do not: they stay erased.
  for (const event of await erasureEvents(sql)) {
    const documentId = (event.data as { documentId?: string }).documentId;
    if (documentId && !erasures.has(documentId)) erasures.set(documentId, event);
  }
  await sql.exec(`TRUNCATE ${STORE_TABLES.join(', ')}`);
}

async function restoreFile(
  sql: SqlClient,
  record: FileRecord,
  keys: Map<string, Buffer>,
  file: string,
): Promise<number> {
  const key =
    keys.get(record.documentId) ?? (await documentKeys.load(sql, [record.documentId])).get(record.documentId);
  if (!key) return 0; // the chain holds no key for it: its content cannot be read, as after an erasure
  let bytes: Buffer;
  try {
    bytes = gunzipSync(unsealBytes(key, Buffer.from(record.sealed, 'base64')));
  } catch {
    throw new BackupError(
      'BACKUP_CORRUPT',
      `${file}: the file ${record.sha256} cannot be unsealed with its key`,
    );
  }
  if (sha256(bytes) !== record.sha256)
    throw new BackupError('BACKUP_CORRUPT', `${file}: the file ${record.sha256} does not match its hash`);
  await sql.transaction((tx) => fileStore.put(tx, bytes, record.contentType));
  return 1;
}

async function restoreSource(sql: SqlClient, { row }: SourceRecord): Promise<void> {
  const columns = Object.keys(row).filter((c) => /^[a-z_]+$/.test(c));
  await sql.query(
    `INSERT INTO url_sources (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM jsonb_populate_record(NULL::url_sources, $1::jsonb)
     ON CONFLICT (document_id) DO UPDATE SET ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
    [JSON.stringify(row)],
  );
}

/** A document the ledger says is erased but whose restored stream does not end so: its erasure is appended. */
async function reapplyErasures(
  sql: SqlClient,
  loader: EventLoader,
  erasures: Map<string, StoredEvent>,
): Promise<number> {
  let reapplied = 0;
  for (const [documentId, erasure] of erasures) {
    const { rows } = await sql.query<{ version: number; erased: boolean }>(
      `SELECT s.version::int AS version,
              EXISTS (SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.type = 'DocumentErased') AS erased
       FROM streams s WHERE s.stream_id = $1`,
      [erasure.streamId],
    );
    const stream = rows[0];
    if (!stream || stream.erased || !documentId) continue;
    await loader.add({ ...erasure, streamPosition: stream.version + 1 });
    await loader.flush();
    reapplied += 1;
  }
  return reapplied;
}
