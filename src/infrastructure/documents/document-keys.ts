import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../sql/sql-client.js';

/**
 * Crypto-shredding. Each document's text, title and metadata travel in its events sealed with a key of its own
 * (AES-256-GCM); erasing the document deletes the key, and with it every copy of that text in the event log.
 */
const IV = 12;
const TAG = 16;

export function seal(key: Buffer, value: unknown): string {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function unseal<T>(key: Buffer, sealed: string): T {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV));
  decipher.setAuthTag(raw.subarray(IV, IV + TAG));
  return JSON.parse(
    Buffer.concat([decipher.update(raw.subarray(IV + TAG)), decipher.final()]).toString('utf8'),
  ) as T;
}

/** Bytes (a file in a backup) sealed like an event's text: IV, tag, ciphertext. */
export function sealBytes(key: Buffer, bytes: Uint8Array): Buffer {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(bytes), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function unsealBytes(key: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  decipher.setAuthTag(sealed.subarray(IV, IV + TAG));
  return Buffer.concat([decipher.update(sealed.subarray(IV + TAG)), decipher.final()]);
}

export const documentKeys = {
  newKey(): Buffer {
    return randomBytes(32);
  },

  async insert(tx: SqlExecutor, documentId: string, key: Buffer): Promise<void> {
    await tx.query(`INSERT INTO document_keys (document_id, key) VALUES ($1, decode($2, 'base64'))`, [
      documentId,
      key.toString('base64'),
    ]);
  },

  /** Several new documents' keys in one statement. */
  async insertMany(tx: SqlExecutor, keys: ReadonlyArray<{ documentId: string; key: Buffer }>): Promise<void> {
    if (keys.length === 0) return;
    await tx.query(
      `INSERT INTO document_keys (document_id, key)
       SELECT k."documentId", decode(k.key, 'base64') FROM jsonb_to_recordset($1::jsonb) AS k("documentId" uuid, key text)`,
      [JSON.stringify(keys.map((k) => ({ documentId: k.documentId, key: k.key.toString('base64') })))],
    );
  },

  /** Keys of the given documents (by primary key: an array, not a set-returning function whose rows are guessed). */
  async load(on: SqlExecutor, documentIds: readonly string[]): Promise<Map<string, Buffer>> {
    if (documentIds.length === 0) return new Map();
    const { rows } = await on.query<{ document_id: string; key: string }>(
      `SELECT document_id::text, encode(key, 'base64') AS key FROM document_keys
       WHERE document_id = ANY ($1::uuid[])`,
      [[...new Set(documentIds)]],
    );
    return new Map(rows.map((r) => [r.document_id, Buffer.from(r.key, 'base64')]));
  },

  async destroy(tx: SqlExecutor, documentId: string): Promise<void> {
    await tx.query(`DELETE FROM document_keys WHERE document_id = $1`, [documentId]);
  },
};
