import { DocumentStreams } from '../../src/commands/documents/document-stream.js';
import {
  UploadDocumentsCommand,
  UploadDocumentsHandler,
  type TextUpload,
} from '../../src/commands/upload-document/upload-documents.js';
import type { Principal } from '../../src/domain/access.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { documentVersionsProjection } from '../../src/projections/document-versions/document-versions.projection.js';
import { documentDirectory } from '../../src/projections/documents/document-directory.js';
import { documentsProjection } from '../../src/projections/documents/documents.projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

const admin: Principal = { keyId: 'key-admin', role: 'admin', coaches: '*', tier: 'premium' };
const doc = (content: string, coachId = 'c'): TextUpload => ({
  coachId,
  title: `T ${content.slice(0, 20)}`,
  content,
  format: 'text',
  metadata: { documentType: 'guide', tags: ['x'], accessTier: 'free' },
});

/** UploadDocuments: many uploads in one transaction through the one command handler. */
describe.each(targets())('bulk uploads on %s', (kind) => {
  let db: TestDatabase;
  let handler: UploadDocumentsHandler;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    const inline = [documentVersionsProjection, documentsProjection];
    const store = new PostgresEventStore(db.client, serviceEventRegistry(), inline);
    handler = new UploadDocumentsHandler(
      new DocumentStreams(store, db.client, { now: () => new Date() }, documentDirectory),
    );
  });
  afterAll(() => db.drop());

  const upload = (uploads: TextUpload[]) =>
    handler.execute(new UploadDocumentsCommand({ principal: admin, uploads, sourceType: 'csv' }));
  const counts = async () =>
    (
      await db.client.query<{
        events: number;
        streams: number;
        documents: number;
        versions: number;
        keys: number;
      }>(
        `SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM streams) AS streams,
           (SELECT count(*)::int FROM documents) AS documents, (SELECT count(*)::int FROM document_versions) AS versions,
           (SELECT count(*)::int FROM document_keys) AS keys`,
      )
    ).rows[0]!;
  const sameCounts = (n: number) => ({ events: n, streams: n, documents: n, versions: n, keys: n });

  it('writes one sealed event, one key, one document and one version per new document: none lost, none doubled', async () => {
    const start = await counts();
    const results = await upload(Array.from({ length: 120 }, (_, i) => doc(`Bulk document number ${i}.`)));
    expect(results.filter((r) => r.changed)).toHaveLength(120);
    expect(new Set(results.map((r) => r.position)).size).toBe(120);
    expect(await counts()).toEqual(sameCounts(start.events + 120));
  });

  it('answers a source repeated within a batch, and one the coach already has, as a duplicate of the first', async () => {
    const start = await counts();
    const [first, again, otherCoach] = await upload([
      doc('Twice in one batch.'),
      doc('Twice in one batch.'),
      doc('Twice in one batch.', 'd'),
    ]);
    expect(first).toMatchObject({ changed: true, version: 1 });
    expect(again).toEqual({
      documentId: first!.documentId,
      version: 1,
      position: first!.position,
      changed: false,
      duplicate: true,
    });
    expect(otherCoach).toMatchObject({ changed: true });
    const [later] = await upload([doc('Twice in one batch.')]);
    expect(later).toEqual(again);
    expect(await counts()).toEqual(sameCounts(start.events + 2));
  });

  it('creates each source once when batches with overlapping sources run at once', async () => {
    const start = await counts();
    const sources = Array.from({ length: 30 }, (_, i) => `Overlapping source ${i}.`);
    // Four batches over the same sources, each in another order: a lock order by batch would deadlock.
    const orders = [
      sources,
      [...sources].reverse(),
      sources.filter((_, i) => i % 2 === 0),
      sources.filter((_, i) => i % 3 === 0).reverse(),
    ];
    const results = await Promise.all(orders.map((order) => upload(order.map((s) => doc(s)))));
    const created = results.flat().filter((r) => r.changed);
    expect(created).toHaveLength(30);
    expect(await counts()).toEqual(sameCounts(start.events + 30));
    const ids = new Map<string, string>();
    results.forEach((batch, b) =>
      batch.forEach((r, i) => {
        const source = orders[b]![i]!;
        expect(r.documentId).toBe(ids.get(source) ?? r.documentId);
        ids.set(source, r.documentId);
      }),
    );
  });

  it('writes nothing of a batch with a row another coach key cannot write', async () => {
    const start = await counts();
    const editor: Principal = { keyId: 'key-ed', role: 'editor', coaches: new Set(['c']), tier: 'premium' };
    await expect(
      handler.execute(
        new UploadDocumentsCommand({
          principal: editor,
          uploads: [doc('Mine.'), doc('Not mine.', 'other')],
          sourceType: 'csv',
        }),
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await counts()).toEqual(start);
  });
});
