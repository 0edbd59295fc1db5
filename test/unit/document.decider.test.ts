import type { DocumentMetadata, Snapshot } from '../../src/domain/document/document.js';
import {
  documentDecider,
  type DocumentCommand,
  type DocumentEvent,
} from '../../src/domain/document/document.decider.js';
import { fold } from '../../src/domain/decider.js';

const id = 'doc-1';
const metadata: DocumentMetadata = { documentType: 'research', tags: ['protein'], accessTier: 'free' };
const v1: Snapshot = { title: 'Protein', content: 'Eat protein.', format: 'text', metadata };
const uploaded: DocumentEvent = {
  type: 'DocumentUploaded',
  data: { documentId: id, coachId: 'c', sourceId: 's', sourceType: 'json', snapshot: v1 },
};
const edited = (content: string): DocumentEvent => ({
  type: 'DocumentEdited',
  data: { documentId: id, snapshot: { ...v1, content }, changed: ['content'] },
});
const retired: DocumentEvent = { type: 'DocumentRetired', data: { documentId: id } };
const erased: DocumentEvent = {
  type: 'DocumentErased',
  data: { documentId: id, reason: 'GDPR request', accessTier: 'free' },
};

/** given events, when a command, then events (or an error code). */
function given(...events: DocumentEvent[]) {
  return {
    when: (command: DocumentCommand) => {
      const run = () => documentDecider.decide(command, fold(documentDecider, events));
      return {
        then: (expected: DocumentEvent[]) => expect(run()).toEqual(expected),
        thenRefused: (code: string) => expect(run).toThrow(expect.objectContaining({ code })),
      };
    },
  };
}

describe('document decider', () => {
  describe('upload', () => {
    const upload: DocumentCommand = {
      type: 'UploadDocument',
      documentId: id,
      coachId: 'c',
      sourceId: 's',
      sourceType: 'json',
      snapshot: v1,
    };
    it('uploads a new document', () => given().when(upload).then([uploaded]));
    it('refuses an id that exists', () => given(uploaded).when(upload).thenRefused('DOCUMENT_EXISTS'));
  });

  describe('edit', () => {
    it('edits the content', () =>
      given(uploaded)
        .when({ type: 'EditDocument', documentId: id, content: 'Eat more protein.', changeSummary: 'more' })
        .then([
          {
            type: 'DocumentEdited',
            data: {
              documentId: id,
              snapshot: { ...v1, content: 'Eat more protein.' },
              changed: ['content'],
              changeSummary: 'more',
            },
          },
        ]));
    it('merges metadata and takes a new title from it', () =>
      given(uploaded)
        .when({ type: 'EditDocument', documentId: id, metadata: { title: 'Protein 101', tags: ['a'] } })
        .then([
          {
            type: 'DocumentEdited',
            data: {
              documentId: id,
              snapshot: {
                ...v1,
                title: 'Protein 101',
                metadata: { ...metadata, title: 'Protein 101', tags: ['a'] },
              },
              changed: ['metadata', 'title'],
              changeSummary: undefined,
            },
          },
        ]));
    it('emits nothing for an edit that changes nothing', () =>
      given(uploaded)
        .when({ type: 'EditDocument', documentId: id, content: v1.content, metadata: { tags: ['protein'] } })
        .then([]));
    it('drops the file and page structure once the text changes', () => {
      const pdf: Snapshot = {
        ...v1,
        format: 'pdf',
        file: { sha256: 'ab', contentType: 'application/pdf', size: 3 },
        pages: [{ page: 1, startChar: 0, endChar: 12 }],
      };
      const state = fold(documentDecider, [
        { ...uploaded, data: { ...uploaded.data, snapshot: pdf } } as DocumentEvent,
      ]);
      const [event] = documentDecider.decide({ type: 'EditDocument', documentId: id, content: 'new' }, state);
      expect(event).toMatchObject({ data: { snapshot: { content: 'new', format: 'text' } } });
      expect((event!.data as { snapshot: Snapshot }).snapshot.file).toBeUndefined();
    });
    it('refuses a document that does not exist', () =>
      given().when({ type: 'EditDocument', documentId: id, content: 'x' }).thenRefused('NOT_FOUND'));
    it('refuses a retired document', () =>
      given(uploaded, retired)
        .when({ type: 'EditDocument', documentId: id, content: 'x' })
        .thenRefused('DOCUMENT_RETIRED'));
    it('refuses an erased document', () =>
      given(uploaded, erased)
        .when({ type: 'EditDocument', documentId: id, content: 'x' })
        .thenRefused('DOCUMENT_ERASED'));
  });

  describe('replace file', () => {
    const next: Snapshot = {
      ...v1,
      content: 'From the new file.',
      format: 'pdf',
      file: { sha256: 'cd', contentType: 'application/pdf', size: 9 },
    };
    it('records the new file as a new version', () =>
      given(uploaded)
        .when({ type: 'ReplaceFile', documentId: id, snapshot: next })
        .then([
          {
            type: 'DocumentFileReplaced',
            data: { documentId: id, snapshot: next, changeSummary: undefined },
          },
        ]));
    it('emits nothing for the same file again', () =>
      given(uploaded, { type: 'DocumentFileReplaced', data: { documentId: id, snapshot: next } })
        .when({ type: 'ReplaceFile', documentId: id, snapshot: next })
        .then([]));
    it('refuses a retired document', () =>
      given(uploaded, retired)
        .when({ type: 'ReplaceFile', documentId: id, snapshot: next })
        .thenRefused('DOCUMENT_RETIRED'));
  });

  describe('rollback', () => {
    it('makes a new version equal to the one asked for', () =>
      given(uploaded, edited('v2'))
        .when({ type: 'RollBackDocument', documentId: id, toVersion: 1, reason: 'bad edit' })
        .then([
          {
            type: 'DocumentRolledBack',
            data: { documentId: id, toVersion: 1, snapshot: v1, reason: 'bad edit' },
          },
        ]));
    it('brings a retired document back to life', () =>
      given(uploaded, retired)
        .when({ type: 'RollBackDocument', documentId: id, toVersion: 1 })
        .then([
          {
            type: 'DocumentRolledBack',
            data: { documentId: id, toVersion: 1, snapshot: v1, reason: undefined },
          },
        ]));
    it('emits nothing when the active document already equals that version', () =>
      given(uploaded, edited('v2'), edited(v1.content))
        .when({ type: 'RollBackDocument', documentId: id, toVersion: 1 })
        .then([]));
    it.each([0, 3, 1.5, -1])('refuses version %p, which does not exist', (toVersion) =>
      given(uploaded, edited('v2'))
        .when({ type: 'RollBackDocument', documentId: id, toVersion })
        .thenRefused('VERSION_NOT_FOUND'),
    );
    it('refuses an erased document', () =>
      given(uploaded, erased)
        .when({ type: 'RollBackDocument', documentId: id, toVersion: 1 })
        .thenRefused('DOCUMENT_ERASED'));
  });

  describe('retire', () => {
    it('retires an active document', () =>
      given(uploaded)
        .when({ type: 'RetireDocument', documentId: id, reason: 'outdated' })
        .then([{ type: 'DocumentRetired', data: { documentId: id, reason: 'outdated' } }]));
    it('emits nothing when already retired', () =>
      given(uploaded, retired).when({ type: 'RetireDocument', documentId: id }).then([]));
    it('refuses a document that does not exist', () =>
      given().when({ type: 'RetireDocument', documentId: id }).thenRefused('NOT_FOUND'));
  });

  describe('erase', () => {
    it('erases a live or retired document', () => {
      given(uploaded).when({ type: 'EraseDocument', documentId: id, reason: 'GDPR request' }).then([erased]);
      given(uploaded, retired)
        .when({ type: 'EraseDocument', documentId: id, reason: 'GDPR request' })
        .then([erased]);
    });
    it('emits nothing when already erased', () =>
      given(uploaded, erased).when({ type: 'EraseDocument', documentId: id, reason: 'again' }).then([]));
    it('refuses a document that does not exist', () =>
      given().when({ type: 'EraseDocument', documentId: id, reason: 'x' }).thenRefused('NOT_FOUND'));
  });

  it('counts every event as a version, retirement included', () => {
    const state = fold(documentDecider, [uploaded, edited('v2'), retired]);
    expect(state).toMatchObject({ status: 'retired', version: 3 });
  });
});
