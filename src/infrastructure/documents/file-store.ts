import { createHash } from 'node:crypto';
import type { SqlExecutor } from '../sql/sql-client.js';

export interface StoredFile {
  sha256: string;
  contentType: string;
  size: number;
  bytes: Buffer;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Original files, stored once by SHA-256 in PostgreSQL (large binaries never go into events). Writes take the
 * caller's transaction so that a file is stored if and only if the event that references it is appended.
 */
export const fileStore = {
  async put(tx: SqlExecutor, bytes: Uint8Array, contentType: string): Promise<string> {
    const hash = sha256(bytes);
    await tx.query(
      `INSERT INTO files (sha256, content_type, size, bytes) VALUES ($1, $2, $3, decode($4, 'base64')) ON CONFLICT (sha256) DO NOTHING`,
      [hash, contentType, bytes.byteLength, Buffer.from(bytes).toString('base64')],
    );
    return hash;
  },

  async get(on: SqlExecutor, hash: string): Promise<StoredFile | undefined> {
    const { rows } = await on.query<{ sha256: string; content_type: string; size: string; bytes: string }>(
      `SELECT sha256, content_type, size::text, encode(bytes, 'base64') AS bytes FROM files WHERE sha256 = $1`,
      [hash],
    );
    const row = rows[0];
    return (
      row && {
        sha256: row.sha256,
        contentType: row.content_type,
        size: Number(row.size),
        bytes: Buffer.from(row.bytes, 'base64'),
      }
    );
  },

  /** Deletes the files of an erased document that no other document's version still references. */
  async deleteUnreferenced(tx: SqlExecutor, hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    await tx.query(
      `DELETE FROM files f WHERE f.sha256 = ANY ($1::text[])
         AND NOT EXISTS (SELECT 1 FROM document_versions v WHERE v.file_sha256 = f.sha256)`,
      [[...hashes]],
    );
  },
};
