import { canSeeDocument, type Principal } from '../../domain/access.js';
import { DocumentNotFoundError } from '../../domain/document/errors.js';
import type { DocumentThenAndNow } from '../../domain/document/restore-plan.js';
import type { SqlExecutor } from '../sql/sql-client.js';

/** A document's current head, as the documents read model holds it. */
export interface DocumentHead {
  documentId: string;
  coachId: string;
  accessTier: string | null;
  status: 'active' | 'retired' | 'erased';
  version: number;
  position: string;
}

/**
 * The read port over the documents read model that the command side needs: the read model is owned (written and
 * read) by projections/documents, which implements this; the app module hands the implementation to the
 * command module, so that commands never import projections.
 */
export interface DocumentDirectory {
  head(on: SqlExecutor, documentId: string): Promise<DocumentHead | undefined>;
  /**
   * For each (coach, source) that has one, the coach's oldest active document with that source (a new upload of
   * it is a duplicate), in one query, keyed by sourceKey.
   */
  activeWithSources(on: SqlExecutor, sources: readonly Source[]): Promise<Map<string, ExistingSource>>;
  /** The coach's documents imported from these paths (none erased: an erasure gives its path up), by path. */
  withSourcePaths(
    on: SqlExecutor,
    coachId: string,
    paths: readonly string[],
  ): Promise<Map<string, PathDocument>>;
  /** Each document of the coach: now, and the last version written at or before `asOf`. */
  thenAndNow(on: SqlExecutor, coachId: string, asOf: string): Promise<DocumentThenAndNow[]>;
}

/** A coach's source: the SHA-256 of an upload's bytes (or of its normalised text). */
export interface Source {
  coachId: string;
  sourceSha256: string;
}

export type ExistingSource = Pick<DocumentHead, 'documentId' | 'version' | 'position'>;

/** A document an import found at a path: what the next import of that path compares its file with. */
export interface PathDocument extends DocumentHead {
  status: 'active' | 'retired';
  sourceSha256: string;
  metadata: Record<string, unknown>;
}

export const sourceKey = (s: Source) => `${s.coachId}:${s.sourceSha256}`;

export const DOCUMENT_DIRECTORY = Symbol('DOCUMENT_DIRECTORY');

/**
 * The document as the caller may know it. Another coach's document, or a premium one for a free reader, is a
 * 404 exactly like one that does not exist: existence must not leak.
 */
export async function visibleDocument(
  directory: DocumentDirectory,
  on: SqlExecutor,
  principal: Principal,
  documentId: string,
): Promise<DocumentHead> {
  const head = await directory.head(on, documentId);
  if (!head || !canSeeDocument(principal, head)) throw new DocumentNotFoundError(documentId);
  return head;
}
