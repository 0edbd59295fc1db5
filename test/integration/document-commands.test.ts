import { ErasureLedger } from '../../src/infrastructure/backup/backup.scheduler.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { DocumentStreams } from '../../src/commands/documents/document-stream.js';
import { EditDocumentHandler, EditDocumentCommand } from '../../src/commands/edit-document/edit-document.js';
import {
  EraseDocumentCommand,
  EraseDocumentHandler,
} from '../../src/commands/erase-document/erase-document.js';
import {
  UploadDocumentCommand,
  UploadDocumentHandler,
} from '../../src/commands/upload-document/upload-document.js';
import type { Principal } from '../../src/domain/access.js';
import type { DocumentMetadata } from '../../src/domain/document/document.js';
import type { TextExtractor } from '../../src/infrastructure/extraction/extraction.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { documentVersionsProjection } from '../../src/projections/document-versions/document-versions.projection.js';
import { documentDirectory } from '../../src/projections/documents/document-directory.js';
import { documentsProjection } from '../../src/projections/documents/documents.projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

const admin: Principal = { keyId: 'key-admin', role: 'admin', coaches: '*', tier: 'premium' };
const metadata: DocumentMetadata = { documentType: 'guide', tags: [], accessTier: 'free' };
const noExtractor: TextExtractor = {
  extract: () => Promise.reject(new Error('these tests upload text, never a file')),
};

/** The document command handlers as the service wires them, on a fresh database, with a fixed clock. */
describe.each(targets())('document commands through handleCommand on %s', (kind) => {
  const now = new Date('2030-01-02T03:04:05.000Z');
  let db: TestDatabase;
  let upload: UploadDocumentHandler;
  let edit: EditDocumentHandler;
  let erase: EraseDocumentHandler;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    const inline = [documentVersionsProjection, documentsProjection];
    const store = new PostgresEventStore(db.client, serviceEventRegistry(), inline, () => now);
    const docs = new DocumentStreams(store, db.client, { now: () => now }, documentDirectory);
    upload = new UploadDocumentHandler(docs, noExtractor);
    edit = new EditDocumentHandler(docs);
    erase = new EraseDocumentHandler(docs, db.client, new ErasureLedger(loadConfig({}), db.client));
  });
  afterAll(() => db.drop());

  const uploadText = (content: string, idempotencyKey?: string) =>
    upload.execute(
      new UploadDocumentCommand({
        principal: admin,
        coachId: 'c',
        idempotencyKey,
        source: { kind: 'text', title: 'T', content, format: 'text', metadata },
      }),
    );
  const rawEvents = async (documentId: string) =>
    (
      await db.client.query<{ data: string; occurred_at: string }>(
        `SELECT data::text, metadata->>'occurredAt' AS occurred_at FROM events WHERE stream_id = $1 ORDER BY stream_position`,
        [`document-${documentId}`],
      )
    ).rows;
  const keyCount = async (documentId: string) =>
    (
      await db.client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM document_keys WHERE document_id = $1',
        [documentId],
      )
    ).rows[0]!.n;

  it('seals the upload with a key stored in its transaction, at the time of the injected clock', async () => {
    const marker = `Sealed text ${Math.random()}`;
    const { documentId } = await uploadText(marker);
    expect(await keyCount(documentId)).toBe(1);
    const [event] = await rawEvents(documentId);
    expect(event!.data).not.toContain(marker);
    expect(event!.occurred_at).toBe(now.toISOString());
  });

  it('destroys the key with the erasure event: the text is gone from the log for good', async () => {
    const { documentId } = await uploadText(`To be erased ${Math.random()}`);
    const result = await erase.execute(
      new EraseDocumentCommand({ principal: admin, documentId, reason: 'asked to' }),
    );
    expect(result).toMatchObject({ documentId, version: 2, changed: true });
    expect(await keyCount(documentId)).toBe(0);
    await expect(
      edit.execute(new EditDocumentCommand({ principal: admin, documentId, content: 'again' })),
    ).rejects.toMatchObject({ code: 'DOCUMENT_ERASED' });
  });

  it('replays a write sent twice with one idempotency key: one event, the same answer', async () => {
    const { documentId } = await uploadText(`Idempotent ${Math.random()}`);
    const send = (content: string) =>
      edit.execute(
        new EditDocumentCommand({ principal: admin, documentId, content, idempotencyKey: 'k:edit-1' }),
      );
    const first = await send('first edit');
    const again = await send('first edit');
    expect(again).toMatchObject({ version: first.version, position: first.position, changed: true });
    // The same key with another request is refused, not taken for a retry.
    await expect(send('another edit under the same key')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await rawEvents(documentId)).toHaveLength(2);
  });

  it('answers an upload of a source the coach already has with that document, and writes nothing', async () => {
    const content = `Duplicate ${Math.random()}`;
    const [a, b] = await Promise.all([uploadText(content), uploadText(content)]);
    const [created, duplicate] = a.duplicate ? [b, a] : [a, b];
    expect(created).toMatchObject({ changed: true, sourceId: expect.any(String) });
    expect(duplicate).toEqual({
      documentId: created.documentId,
      version: 1,
      position: created.position,
      changed: false,
      duplicate: true,
    });
    // The duplicate's new key went with its refused transaction: no key without a stream.
    const { rows } = await db.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM document_keys k
       WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = 'document-' || k.document_id::text)`,
    );
    expect(rows[0]!.n).toBe(0);
  });
});
