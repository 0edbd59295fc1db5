/** One document of a coach, now and at the moment a restore goes back to. */
export interface DocumentThenAndNow {
  documentId: string;
  nowStatus: 'active' | 'retired' | 'erased';
  nowVersion: number;
  /** The last version written at or before that moment; null when the document did not exist yet. */
  thenVersion: number | null;
  thenStatus: 'active' | 'retired' | null;
  /** Whether the current version has the same title, content, metadata and file as that one. */
  same: boolean | null;
}

export type RestoreAction =
  | { documentId: string; action: 'rollback'; fromVersion: number; toVersion: number; reason: string }
  | { documentId: string; action: 'retire'; fromVersion: number; reason: string };

/**
 * What brings one document back to how it stood at `asOf`, by a new event: rolled back to its version of then if
 * it changed or was retired since, retired if it was created after (or was retired then). Undefined when it is
 * already as it was, or erased: erased content stays erased, whatever `asOf` says.
 */
export function restoreAction(doc: DocumentThenAndNow, asOf: string): RestoreAction | undefined {
  const base = { documentId: doc.documentId, fromVersion: doc.nowVersion };
  if (doc.nowStatus === 'erased') return undefined;
  if (doc.thenStatus !== 'active') {
    // Not there yet at asOf, or retired then: it must not be in the corpus now.
    if (doc.nowStatus !== 'active') return undefined;
    const why = doc.thenStatus === null ? 'created after' : 'retired at';
    return { ...base, action: 'retire', reason: `restore to ${asOf}: ${why} that moment` };
  }
  if (doc.nowStatus === 'active' && doc.same) return undefined;
  return {
    ...base,
    action: 'rollback',
    toVersion: doc.thenVersion!,
    reason: `restore to ${asOf}: version ${doc.thenVersion} was current then`,
  };
}
