import { AppError } from '../errors.js';

export class DocumentNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor(documentId: string) {
    super(`document ${documentId} does not exist`);
  }
}

export class DocumentExistsError extends AppError {
  readonly code = 'DOCUMENT_EXISTS';
  readonly status = 409;
  constructor(documentId: string) {
    super(`document ${documentId} already exists`);
  }
}

export class DocumentRetiredError extends AppError {
  readonly code = 'DOCUMENT_RETIRED';
  readonly status = 409;
  constructor(documentId: string) {
    super(`document ${documentId} is retired; roll it back to a version to bring it back first`);
  }
}

export class DocumentErasedError extends AppError {
  readonly code = 'DOCUMENT_ERASED';
  readonly status = 410;
  constructor(documentId: string) {
    super(`document ${documentId} was erased; only its history can be read`);
  }
}

export class VersionNotFoundError extends AppError {
  readonly code = 'VERSION_NOT_FOUND';
  readonly status = 422;
  constructor(documentId: string, version: number, latest: number) {
    super(`document ${documentId} has no version ${version} (versions 1 to ${latest} exist)`);
  }
}

/** A malformed id cannot name a document: the same 404 as an unknown one. */
export class DocumentIdError extends AppError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor() {
    super('no document has this id (document ids are UUIDs)');
  }
}
