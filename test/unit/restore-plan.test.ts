import { restoreAction, type DocumentThenAndNow } from '../../src/domain/document/restore-plan.js';

const asOf = '2026-03-01T12:00:00Z';

/** given a document then and now, when restoring to `asOf`, then this action (or none). */
function given(doc: Partial<DocumentThenAndNow>) {
  const full: DocumentThenAndNow = {
    documentId: 'doc-1',
    nowStatus: 'active',
    nowVersion: 3,
    thenVersion: 2,
    thenStatus: 'active',
    same: false,
    ...doc,
  };
  return {
    then: (expected: ReturnType<typeof restoreAction>) => expect(restoreAction(full, asOf)).toEqual(expected),
  };
}

describe('restore planner', () => {
  it('rolls a document changed since back to its version of then', () =>
    given({ nowVersion: 3, thenVersion: 2, same: false }).then({
      documentId: 'doc-1',
      action: 'rollback',
      fromVersion: 3,
      toVersion: 2,
      reason: `restore to ${asOf}: version 2 was current then`,
    }));

  it('leaves a document that is as it was (even at a later version, e.g. after a rollback)', () =>
    given({ nowVersion: 4, thenVersion: 2, same: true }).then(undefined));

  it('retires a document created after the moment', () =>
    given({ thenVersion: null, thenStatus: null, same: null }).then({
      documentId: 'doc-1',
      action: 'retire',
      fromVersion: 3,
      reason: `restore to ${asOf}: created after that moment`,
    }));

  it('retires a document that was retired at the moment and is active now', () =>
    given({ thenStatus: 'retired', same: true }).then({
      documentId: 'doc-1',
      action: 'retire',
      fromVersion: 3,
      reason: `restore to ${asOf}: retired at that moment`,
    }));

  it('brings back a document retired since, by a rollback to its version of then (same text or not)', () =>
    given({ nowStatus: 'retired', nowVersion: 3, thenVersion: 2, same: true }).then({
      documentId: 'doc-1',
      action: 'rollback',
      fromVersion: 3,
      toVersion: 2,
      reason: `restore to ${asOf}: version 2 was current then`,
    }));

  it('leaves a document that is retired now and was not active then', () => {
    given({ nowStatus: 'retired', thenStatus: null, thenVersion: null, same: null }).then(undefined);
    given({ nowStatus: 'retired', thenStatus: 'retired' }).then(undefined);
  });

  it('never touches an erased document, whatever it was then', () => {
    given({ nowStatus: 'erased', thenStatus: 'active', same: false }).then(undefined);
    given({ nowStatus: 'erased', thenStatus: null, thenVersion: null }).then(undefined);
  });
});
