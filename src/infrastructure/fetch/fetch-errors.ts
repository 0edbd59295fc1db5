import { AppError } from '../../domain/errors.js';

/** Why a URL was not fetched; each a stable problem code with its status. */
export const FETCH_CODES = [
  'URL_NOT_ALLOWED',
  'FETCH_FAILED',
  'FETCH_TIMEOUT',
  'TOO_MANY_REDIRECTS',
  'FILE_TOO_LARGE',
] as const;
export type FetchCode = (typeof FETCH_CODES)[number];

export function fetchStatus(code: FetchCode): number {
  switch (code) {
    case 'URL_NOT_ALLOWED':
      return 400;
    case 'FILE_TOO_LARGE':
      return 413;
    case 'FETCH_TIMEOUT':
      return 504;
    default:
      return 502;
  }
}

export class FetchError extends AppError {
  readonly status: number;

  constructor(
    readonly code: FetchCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
    this.status = fetchStatus(code);
  }
}
