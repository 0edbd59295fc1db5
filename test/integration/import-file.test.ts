import { ErasureLedger } from '../../src/infrastructure/backup/backup.scheduler.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { DocumentStreams } from '../../src/commands/documents/document-stream.js';
import {
  EraseDocumentCommand,
  EraseDocumentHandler,
} from '../../src/commands/erase-document/erase-document.js';
import { ImportFileCommand, ImportFileHandler } from '../../src/commands/import-file/import-file.js';
import {
  RetireDocumentCommand,
  RetireDocumentHandler,
} from '../../src/commands/retire-document/retire-document.js';
import type { Principal } from '../../src/domain/access.js';
import type { DocumentMetadata } from '../../src/domain/document/document.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { extractInProcess } from '../../src/infrastructure/extraction/extract.js';
import { documentVersionsProjection } from '../../src/projections/document-versions/document-versions.projection.js';
import { documentDirectory } from '../../src/projections/documents/document-directory.js';
import { documentsProjection } from '../../src/projections/documents/documents.projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

const admin: Principal = { keyId: 'key-admin', role: 'admin', coaches: '*', tier: 'premium' };
const editorOfD: Principal = { keyId: 'd-editor', role: 'editor', coaches: new Set(['d']), tier: 'premium' };
const metadata: DocumentMetadata = { documentType: 'guide', tags: ['a'], accessTier: 'premium' };

/** A file of a folder import, keyed by coach and path: created once, then a new version only when it changed. */
describe.each(targets())('importing a file at a path on %s', (kind) => {
  const now = new Date('2030-01-02T03:04:05.000Z');
  let db: TestDatabase;
  let handler: ImportFileHandler;
  let retire: RetireDocumentHandler;
  let erase: EraseDocumentHandler;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    const inline = [documentVersionsProjection, documentsProjection];
    const store = new PostgresEventStore(db.client, serviceEventRegistry(), inline, () => now);
    const docs = new DocumentStreams(store, db.client, { now: () => now }, documentDirectory);
    handler = new ImportFileHandler(docs, { extract: (bytes, hint) => extractInProcess(bytes, hint) });
    retire = new RetireDocumentHandler(docs);
    erase = new EraseDocumentHandler(docs, db.client, new ErasureLedger(loadConfig({}), db.client));
  });
  afterAll(() => db.drop());

  const importFile = (
    sourcePath: string,
    text: string,
    meta: Partial<DocumentMetadata> = {},
    principal = admin,
  ) =>
    handler.execute(
      new ImportFileCommand({
        principal,
        coachId: 'c',
        sourcePath,
        file: { bytes: Buffer.from(text), filename: sourcePath.split('/').pop() },
        metadata: { ...metadata, ...meta },
      }),
    );
  const eventsOf = async (documentId: string) =>
    (
      await db.client.query<{ type: string }>(
        'SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_position',
        [`document-${documentId}`],
      )
    ).rows.map((r) => r.type);

  it('creates the document once, then reports it unchanged without appending', async () => {
    const first = await importFile('guides/one.txt', 'One guide about sleep.');
    expect(first.outcome).toBe('created');
    const again = await importFile('guides/one.txt', 'One guide about sleep.');
    expect(again).toMatchObject({ outcome: 'unchanged', documentId: first.documentId, version: 1 });
    expect(await eventsOf(first.documentId)).toEqual(['DocumentUploaded']);
    const { rows } = await db.client.query<{ source_path: string }>(
      'SELECT source_path FROM documents WHERE document_id = $1',
      [first.documentId],
    );
    expect(rows[0]!.source_path).toBe('guides/one.txt');
  });

  it('keeps the path sealed in the event, not in the clear', async () => {
    const { documentId } = await importFile('private/Dr Secretname.txt', 'Notes.');
    const { rows } = await db.client.query<{ data: string }>(
      'SELECT data::text FROM events WHERE stream_id = $1',
      [`document-${documentId}`],
    );
    expect(rows[0]!.data).not.toContain('Secretname');
  });

  it('makes a changed file a new version of the same document, with the import metadata on top', async () => {
    const first = await importFile('two.txt', 'Version one of two.', { author: 'A' });
    const changed = await importFile('two.txt', 'Version two of two.');
    expect(changed).toMatchObject({ outcome: 'updated', documentId: first.documentId, version: 2 });
    expect(await eventsOf(first.documentId)).toEqual(['DocumentUploaded', 'DocumentFileReplaced']);
    const { rows } = await db.client.query<{ content: string; author: string }>(
      "SELECT content, metadata->>'author' AS author FROM documents WHERE document_id = $1",
      [first.documentId],
    );
    expect(rows[0]).toEqual({ content: 'Version two of two.', author: 'A' });
  });

  it('edits the metadata when only the metadata changed (a sidecar edited)', async () => {
    const first = await importFile('three.txt', 'Three.', { tags: ['x'] });
    const edited = await importFile('three.txt', 'Three.', { tags: ['x', 'y'] });
    expect(edited).toMatchObject({ outcome: 'updated', version: 2 });
    expect(await eventsOf(first.documentId)).toEqual(['DocumentUploaded', 'DocumentEdited']);
    expect((await importFile('three.txt', 'Three.', { tags: ['x', 'y'] })).outcome).toBe('unchanged');
  });

  it('applies the usual duplicate rule to a new path with bytes the coach already has', async () => {
    const original = await importFile('four.txt', 'Four, twice.');
    const copy = await importFile('copy-of-four.txt', 'Four, twice.');
    expect(copy).toMatchObject({ outcome: 'duplicate', documentId: original.documentId, duplicate: true });
    expect((await importFile('copy-of-four.txt', 'Four, twice.')).outcome).toBe('duplicate');
  });

  it('leaves a retired document retired, and gives an erased one its path up', async () => {
    const { documentId } = await importFile('five.txt', 'Five.');
    await retire.execute(new RetireDocumentCommand({ principal: admin, documentId }));
    expect((await importFile('five.txt', 'Five, changed.')).outcome).toBe('retired');
    expect(await eventsOf(documentId)).toEqual(['DocumentUploaded', 'DocumentRetired']);
    await erase.execute(new EraseDocumentCommand({ principal: admin, documentId, reason: 'asked' }));
    const again = await importFile('five.txt', 'Five.');
    expect(again.outcome).toBe('created');
    expect(again.documentId).not.toBe(documentId);
  });

  it("refuses another coach's editor before reading anything, and writes nothing", async () => {
    const { documentId } = await importFile('six.txt', 'Six.');
    await expect(importFile('six.txt', 'Six, changed.', {}, editorOfD)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await eventsOf(documentId)).toEqual(['DocumentUploaded']);
  });

  it('makes one document of two imports of a new path at once (they take turns on the path lock)', async () => {
    const both = await Promise.all([
      importFile('seven.txt', 'Seven, A.'),
      importFile('seven.txt', 'Seven, B.'),
    ]);
    // The second either waited on the lock (then found the path taken) or came after the first committed.
    const [created, second] = both.map((r) => r.outcome).sort();
    expect(created).toBe('created');
    expect(['duplicate', 'updated']).toContain(second);
    expect(new Set(both.map((r) => r.documentId)).size).toBe(1);
    const { rows } = await db.client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM documents WHERE coach_id = 'c' AND source_path = 'seven.txt'",
    );
    expect(rows[0]!.n).toBe(1);
  });
});
