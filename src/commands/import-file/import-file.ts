import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { assertCoach, canSeeDocument, type Principal } from '../../domain/access.js';
import { sameValue, type DocumentMetadata } from '../../domain/document/document.js';
import { DocumentNotFoundError } from '../../domain/document/errors.js';
import type { PathDocument } from '../../infrastructure/documents/document-directory.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import { TEXT_EXTRACTOR, type TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { Metrics, outcomeOf } from '../../infrastructure/metrics/metrics.js';
import { DocumentStreams, storeFile, type WriteResult } from '../documents/document-stream.js';
import { snapshotOfFile } from '../documents/snapshot.js';
import type { IncomingFile } from '../replace-file/replace-file.js';
import { newUpload } from '../upload-document/upload-document.js';

/**
 * What importing a file at a path did: a new document (`created`), a new version of the document at that path
 * (`updated`), nothing because the file and its metadata are the document's (`unchanged`), nothing because the
 * coach already has the same bytes at another path or upload (`duplicate`), or nothing because the document at
 * that path is retired (`retired`: a rollback brings it back).
 */
export type ImportOutcome = 'created' | 'updated' | 'unchanged' | 'duplicate' | 'retired';
export type ImportFileResult = WriteResult & { outcome: ImportOutcome; sourceId?: string };

export class ImportFileCommand extends Command<ImportFileResult> {
  constructor(
    readonly request: {
      principal: Principal;
      coachId: string;
      /** The file's path relative to the imported folder, with `/` separators: the document's key. */
      sourcePath: string;
      file: IncomingFile;
      metadata: DocumentMetadata;
    },
  ) {
    super();
  }
}

/** Every field the import gives is already the document's: nothing to write. */
const metadataHolds = (given: DocumentMetadata, current: Record<string, unknown>) =>
  Object.entries(given).every(([k, v]) => v === undefined || sameValue(v, current[k]));

/**
 * A file of a folder import (POST /documents with `sourcePath`, `docsvc import`): the coach's document at that
 * path gets a new version when the file's bytes or the given metadata changed, and nothing otherwise; a path not
 * seen before is an upload, under the usual duplicate rule. An unchanged file is recognised by its hash before
 * anything is extracted, so a second run over a large folder reads files and writes nothing.
 */
@CommandHandler(ImportFileCommand)
export class ImportFileHandler implements ICommandHandler<ImportFileCommand, ImportFileResult> {
  constructor(
    @Inject(DocumentStreams) private readonly docs: DocumentStreams,
    @Inject(TEXT_EXTRACTOR) private readonly extractor: TextExtractor,
    @Inject(Metrics) private readonly metrics?: Metrics,
  ) {}

  async execute({ request }: ImportFileCommand): Promise<ImportFileResult> {
    try {
      const result = await this.import(request);
      this.metrics?.imported('folder', result.outcome);
      return result;
    } catch (error) {
      this.metrics?.imported('folder', outcomeOf(error));
      throw error;
    }
  }

  private async import(request: ImportFileCommand['request']): Promise<ImportFileResult> {
    const { principal, coachId, sourcePath } = request;
    assertCoach(principal, coachId);
    const found = await this.docs.atPath(coachId, sourcePath);
    if (!found) return this.create(request);
    if (!canSeeDocument(principal, found)) throw new DocumentNotFoundError(found.documentId);
    const at = { documentId: found.documentId, version: found.version, position: found.position };
    if (found.status === 'retired') return { ...at, changed: false, outcome: 'retired' };
    const sameFile = found.sourceSha256 === sha256(request.file.bytes);
    if (sameFile && metadataHolds(request.metadata, found.metadata))
      return { ...at, changed: false, outcome: 'unchanged' };
    const result = sameFile ? await this.editMetadata(request, found) : await this.replace(request, found);
    return { ...result, outcome: result.changed ? 'updated' : 'unchanged' };
  }

  private async create(request: ImportFileCommand['request']): Promise<ImportFileResult> {
    const { principal, coachId, sourcePath, file, metadata } = request;
    const { snapshot, bytes, hash } = await this.snapshot(file, metadata);
    const command = { ...newUpload(coachId, 'folder', snapshot), sourcePath };
    const [outcome] = await this.docs.create({ actor: principal.keyId }, [
      { command, sourceSha256: hash, alsoWrite: [storeFile(bytes, snapshot.file!.contentType)] },
    ]);
    if (outcome!.duplicate) return { ...outcome!, outcome: 'duplicate' };
    return { ...outcome!, outcome: 'created', sourceId: command.sourceId };
  }

  private editMetadata(request: ImportFileCommand['request'], doc: PathDocument) {
    const command = { type: 'EditDocument' as const, documentId: doc.documentId, metadata: request.metadata };
    return this.docs.write(doc, { actor: request.principal.keyId }, command);
  }

  /** A new file: its text, with the document's metadata and the import's on top. */
  private async replace(request: ImportFileCommand['request'], doc: PathDocument) {
    const metadata = { ...doc.metadata, ...request.metadata } as DocumentMetadata;
    const { snapshot, bytes } = await this.snapshot(request.file, metadata);
    const command = { type: 'ReplaceFile' as const, documentId: doc.documentId, snapshot };
    const file = storeFile(bytes, snapshot.file!.contentType);
    return this.docs.write(doc, { actor: request.principal.keyId }, command, file);
  }

  private async snapshot(file: IncomingFile, metadata: DocumentMetadata) {
    const { snapshot, sha256: hash } = await snapshotOfFile(this.extractor, file, metadata);
    return { snapshot, bytes: file.bytes, hash };
  }
}
