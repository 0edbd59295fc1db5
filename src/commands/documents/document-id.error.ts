import { AppError } from '../../domain/errors.js';

/** A malformed id cannot name a document: the same 404 as an unknown one. */
export class DocumentIdError extends AppError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor() {
    super('no document has this id (document ids are UUIDs)');
  }
}
