import { z } from 'zod';

/**
 * The backup file: one gzip stream of JSON lines, written and read in one pass with constant memory. A header
 * line, then the parts in a fixed order (events, keys, files, erasures, sources), then a manifest line with the
 * counts, the first and last position and a SHA-256 of each part's lines. The manifest comes last because only
 * then are the hashes known; gzip's own CRC guards the whole stream besides.
 */
export const BACKUP_FORMAT = 'docsvc-backup';
export const BACKUP_FORMAT_VERSION = 1;

export const PARTS = ['header', 'events', 'keys', 'files', 'erasures', 'sources'] as const;
export type Part = (typeof PARTS)[number];

const position = z.string().regex(/^\d{1,20}\.\d{1,20}$/);

export const headerRecord = z.object({
  t: z.literal('header'),
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int(),
  backupId: z.uuid(),
  kind: z.enum(['full', 'incremental']),
  /** Exclusive: the position this link continues from (null for a full backup). */
  since: position.nullable(),
  /** The backup this one continues, when it was given as a file. */
  parent: z.uuid().nullable(),
  createdAt: z.string(),
  engine: z.enum(['postgres', 'pglite']),
});

/** An event exactly as stored: its payload is not decoded, upcast or unsealed. */
export const eventRecord = z.object({
  t: z.literal('event'),
  position,
  eventId: z.uuid(),
  streamId: z.string().min(1),
  streamPosition: z.number().int().positive(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  data: z.unknown(),
  metadata: z.unknown(),
  recordedAt: z.string(),
});

export const keyRecord = z.object({ t: z.literal('key'), documentId: z.uuid(), key: z.base64() });

/** A stored file, compressed then sealed with its document's key (AES-256-GCM). */
export const fileRecord = z.object({
  t: z.literal('file'),
  documentId: z.uuid(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  sealed: z.base64(),
});

/** The erasure ledger: every DocumentErased event of the whole log when the backup was taken. */
export const erasureRecord = eventRecord.extend({ t: z.literal('erasure') });

/** A URL source's schedule (url_sources): not derived from events, so it travels as rows. */
export const sourceRecord = z.object({ t: z.literal('source'), row: z.record(z.string(), z.unknown()) });

const partSummary = z.object({ count: z.number().int().nonnegative(), sha256: z.string() });

export const manifestRecord = z.object({
  t: z.literal('manifest'),
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int(),
  backupId: z.uuid(),
  kind: z.enum(['full', 'incremental']),
  since: position.nullable(),
  parent: z.uuid().nullable(),
  createdAt: z.string(),
  engine: z.enum(['postgres', 'pglite']),
  /** Positions of the source store (a restore hands out its own). Null when the link holds no event. */
  firstPosition: position.nullable(),
  lastPosition: position.nullable(),
  fileBytes: z.number().int().nonnegative(),
  parts: z.record(z.enum(PARTS), partSummary),
});

export type HeaderRecord = z.infer<typeof headerRecord>;
export type EventRecord = z.infer<typeof eventRecord>;
export type KeyRecord = z.infer<typeof keyRecord>;
export type FileRecord = z.infer<typeof fileRecord>;
export type ErasureRecord = z.infer<typeof erasureRecord>;
export type SourceRecord = z.infer<typeof sourceRecord>;
export type Manifest = z.infer<typeof manifestRecord>;
/** An event as a backup holds it, in the events part or in the ledger. */
export type StoredEvent = Omit<EventRecord, 't'>;
export type BackupRecord = HeaderRecord | EventRecord | KeyRecord | FileRecord | ErasureRecord | SourceRecord;

export const PART_OF: Record<BackupRecord['t'], Part> = {
  header: 'header',
  event: 'events',
  key: 'keys',
  file: 'files',
  erasure: 'erasures',
  source: 'sources',
};

export const RECORD_SCHEMAS = {
  header: headerRecord,
  event: eventRecord,
  key: keyRecord,
  file: fileRecord,
  erasure: erasureRecord,
  source: sourceRecord,
} as const;

/** Where a backup chain ends: the position the next incremental continues from. */
export function chainEnd(manifest: Manifest): string | null {
  return manifest.lastPosition ?? manifest.since;
}

export type BackupErrorCode =
  | 'BACKUP_CORRUPT'
  | 'BACKUP_UNSUPPORTED'
  | 'BACKUP_CHAIN_BROKEN'
  | 'RESTORE_TARGET_NOT_EMPTY'
  | 'BACKUP_NOT_FOUND';

/** A refusal of the backup tools, with a stable code for the CLI's exit and --json output. */
export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}
