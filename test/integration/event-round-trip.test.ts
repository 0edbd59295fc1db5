import { randomUUID } from 'node:crypto';
import { fold } from '../../src/domain/decider.js';
import {
  documentDecider,
  type DocumentCommand,
  type DocumentEvent,
} from '../../src/domain/document/document.decider.js';
import {
  decodeDocumentEvent,
  encodeDocumentEvent,
  SOURCE_RESERVED,
} from '../../src/infrastructure/documents/document-events.js';
import { documentKeys } from '../../src/infrastructure/documents/document-keys.js';
import { serviceEventRegistry } from '../../src/infrastructure/event-store/event-types.js';
import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

/**
 * One life of a document that goes through every document event, with every optional field set, decided by the
 * domain itself (so the examples have the shape the service really appends).
 */
function documentLife(): DocumentEvent[] {
  const documentId = randomUUID();
  const metadata = {
    documentType: 'guide' as const,
    tags: ['a', 'b'],
    accessTier: 'free' as const,
    author: 'Ana',
    publicationDate: '2020-01-02',
    custom: { nested: [1, 'two'] },
  };
  const commands: DocumentCommand[] = [
    {
      type: 'UploadDocument',
      documentId,
      coachId: 'coach',
      sourceId: randomUUID(),
      sourceType: 'json',
      snapshot: { title: 'T', content: 'One.', format: 'markdown', metadata, sections: [] },
    },
    { type: 'EditDocument', documentId, content: 'Two.', changeSummary: 'why' },
    {
      type: 'ReplaceFile',
      documentId,
      changeSummary: 'new file',
      snapshot: {
        title: 'T',
        content: 'Three.',
        format: 'text',
        metadata,
        file: { sha256: 'a'.repeat(64), contentType: 'text/plain', size: 6, filename: 'x.txt' },
        pages: [{ page: 1, startChar: 0, endChar: 6 }],
      },
    },
    { type: 'RollBackDocument', documentId, toVersion: 1, reason: 'back' },
    { type: 'RetireDocument', documentId, reason: 'old' },
    { type: 'EraseDocument', documentId, reason: 'GDPR' },
  ];
  const events: DocumentEvent[] = [];
  for (const command of commands)
    events.push(...documentDecider.decide(command, fold(documentDecider, events)));
  return events;
}

/** Types stored as they are, not through a document's key (a source's reservation, with EventStoreDB). */
const PLAIN = new Map<string, unknown>([[SOURCE_RESERVED, { documentId: randomUUID() }]]);

describe.each(targets())('every registered event type on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => (db = await openTestDatabase(kind)));
  afterAll(() => db.drop());

  it('is stored and read back unchanged: clear fields as encoded, sealed fields after decoding', async () => {
    const registry = serviceEventRegistry();
    const store = new PostgresEventStore(db.client, registry);
    const key = documentKeys.newKey();
    const examples = new Map(documentLife().map((e) => [e.type as string, e]));
    // Iterates over the registry, not over the examples: a type registered later without an example fails here.
    const types = registry.types();
    expect(types.filter((type) => !examples.has(type) && !PLAIN.has(type))).toEqual([]);
    for (const [type, data] of PLAIN) {
      const stream = `round-trip-${type}`;
      await store.append(stream, [{ type, data }], { expectedVersion: 'no_stream' });
      const [recorded] = await store.readStream(stream);
      expect({ type: recorded!.type, data: recorded!.data }).toEqual({ type, data });
    }
    for (const type of types.filter((t) => examples.has(t))) {
      const event = examples.get(type)!;
      const encoded = await encodeDocumentEvent(event, key);
      const stream = `round-trip-${type}`;
      await store.append(stream, [encoded], { expectedVersion: 'no_stream' });
      const [recorded] = await store.readStream(stream);
      expect({ type: recorded!.type, data: recorded!.data }).toEqual(encoded);
      expect(await decodeDocumentEvent(recorded!, key)).toEqual(event);
    }
  });
});

describe('DocumentErased v1', () => {
  it('(stored before it kept the tier) reads as premium (shown to no free reader)', async () => {
    const registry = serviceEventRegistry();
    const documentId = randomUUID();
    expect(registry.decode('DocumentErased', 1, { documentId, reason: 'r' })).toEqual({
      documentId,
      reason: 'r',
      accessTier: 'premium',
    });
  });
});
