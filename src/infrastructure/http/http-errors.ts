import { AppError } from '../../domain/errors.js';

export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}

export class MalformedBodyError extends AppError {
  readonly code = 'MALFORMED_BODY';
  readonly status = 400;
}
