/**
 * Errors that cross layers carry a stable machine `code` and the HTTP status they map to; one exception
 * filter turns them into problem+json. Codes are part of the public contract (API.md "Errors").
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}
