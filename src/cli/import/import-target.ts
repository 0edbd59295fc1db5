import type { ImportFileResult } from '../../commands/import-file/import-file.js';
import type { DocumentMetadata } from '../../domain/document/document.js';

/** One file to import: the request POST /documents takes with a `sourcePath`. */
export interface FileImport {
  coachId: string;
  sourcePath: string;
  filename: string;
  bytes: Buffer;
  metadata: DocumentMetadata;
}

/** A document of the coach that came from a folder: what `--retire-missing` compares with the folder. */
export interface PathEntry {
  documentId: string;
  sourcePath: string;
}

/**
 * Where an import writes: the configured database in this process (LocalTarget) or a running service over HTTP
 * (HttpTarget). Both run the same command, ImportFileCommand; a refused file throws a FileFailure with the code
 * the API would answer.
 */
export interface ImportTarget {
  readonly where: string;
  importFile(file: FileImport): Promise<ImportFileResult>;
  /** The coach's active documents that have a source path. */
  activePaths(coachId: string): Promise<PathEntry[]>;
  retire(documentId: string, reason: string): Promise<void>;
}
