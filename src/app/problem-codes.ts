import {
  DocumentErasedError,
  DocumentIdError,
  DocumentExistsError,
  DocumentNotFoundError,
  DocumentRetiredError,
  VersionNotFoundError,
} from '../domain/document/errors.js';
import type { AppError } from '../domain/errors.js';
import { EmbeddingsUnavailableError } from '../projections/chunks/search.js';
import { ReadModelBehindError } from '../projections/chunks/search.query.js';
import { DiffTooLargeError, VersionMissingError } from '../projections/document-versions/history-queries.js';
import { VersionGoneError } from '../projections/documents/document-queries.js';
import { ForbiddenError } from '../domain/access.js';
import { UnauthorizedError } from '../infrastructure/auth/unauthorized.error.js';
import {
  EventSchemaError,
  IdempotencyKeyReusedError,
  InvalidPositionError,
  VersionConflictError,
} from '../infrastructure/event-store/errors.js';
import { EXTRACTION_CODES, extractionStatus } from '../infrastructure/extraction/extraction.js';
import { FETCH_CODES, fetchStatus } from '../infrastructure/fetch/fetch-errors.js';
import {
  MalformedBodyError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../infrastructure/http/http-errors.js';
import { ServerBusyError } from '../infrastructure/http/ingest-gate.js';
import { HTTP_CODES } from '../infrastructure/http/problem.filter.js';
import { RateLimitedError } from '../infrastructure/http/rate-limit.js';
import { ValidationFailedError } from '../infrastructure/http/validation.js';
import { UnknownProjectionError } from '../infrastructure/projections/projection-engine.js';
import { MaintenanceRunningError } from '../projections/maintenance/maintenance-runner.js';

/** Every error the service answers with; a test checks that no `readonly code =` in src is missing here. */
const ERROR_CLASSES: Array<new (...args: never[]) => AppError> = [
  ValidationFailedError,
  MalformedBodyError,
  PayloadTooLargeError,
  MethodNotAllowedError,
  UnsupportedMediaTypeError,
  RateLimitedError,
  ServerBusyError,
  UnauthorizedError,
  ForbiddenError,
  DocumentIdError,
  DocumentNotFoundError,
  DocumentExistsError,
  DocumentRetiredError,
  DocumentErasedError,
  VersionNotFoundError,
  VersionMissingError,
  VersionGoneError,
  VersionConflictError,
  IdempotencyKeyReusedError,
  EventSchemaError,
  InvalidPositionError,
  DiffTooLargeError,
  UnknownProjectionError,
  MaintenanceRunningError,
  EmbeddingsUnavailableError,
  ReadModelBehindError,
];

/**
 * The problem codes with their HTTP statuses, read from the error classes themselves (an instance carries its
 * code and status), the extraction codes and the framework's codes: the OpenAPI document lists them all.
 */
export function problemCodes(): Map<string, Set<number>> {
  const codes = new Map<string, Set<number>>();
  const add = (code: string, status: number) => codes.set(code, (codes.get(code) ?? new Set()).add(status));
  for (const type of ERROR_CLASSES) {
    const error = Reflect.construct(type, ['', '', '']) as AppError;
    add(error.code, error.status);
  }
  for (const code of EXTRACTION_CODES) add(code, extractionStatus(code));
  for (const code of FETCH_CODES) add(code, fetchStatus(code));
  for (const [status, code] of Object.entries(HTTP_CODES)) add(code, Number(status));
  add('INTERNAL_ERROR', 500);
  add('DATABASE_UNAVAILABLE', 503);
  return codes;
}
