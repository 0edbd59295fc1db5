import { AppError } from '../../domain/errors.js';

export type ExpectedVersion = number | 'no_stream' | 'any';

export class VersionConflictError extends AppError {
  readonly code = 'VERSION_CONFLICT';
  readonly status = 412;
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at version ${actual}, expected ${expected}`, {
      expectedVersion: expected,
      currentVersion: actual,
    });
  }
}

export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;
  constructor(key: string, firstStream: string, thisStream: string) {
    super(
      firstStream === thisStream
        ? `idempotency key ${key} was already used for another request; a retry must repeat the first request`
        : `idempotency key ${key} was already used for stream ${firstStream}, not ${thisStream}`,
    );
  }
}

export class EventSchemaError extends AppError {
  readonly code = 'INVALID_EVENT';
  readonly status = 500;
}

export class InvalidPositionError extends AppError {
  readonly code = 'INVALID_POSITION';
  readonly status = 400;
  constructor(value: string, why?: string) {
    super(`"${value}" is not a position returned by this service${why ? `: ${why}` : ''}`);
  }
}
