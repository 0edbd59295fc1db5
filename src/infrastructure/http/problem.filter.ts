import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AppError } from '../../domain/errors.js';
import { databaseUnavailable } from '../sql/sql-client.js';

/** RFC 9457 problem details, with the service's stable machine `code` (API.md "Errors"). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: unknown[];
}

/** Codes of errors raised by the framework (routing, multer), by status. */
export const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** How long a client is asked to wait before retrying when the database cannot be reached. */
const DATABASE_RETRY_SECONDS = 5;

function toProblem(error: unknown): Problem {
  if (databaseUnavailable(error)) {
    return problem(503, 'DATABASE_UNAVAILABLE', 'The database cannot be reached right now; retry shortly.');
  }
  if (error instanceof AppError) {
    return problem(error.status, error.code, error.message, error.details?.errors as unknown[] | undefined);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Multer's limits surface as 413 (file) or 400 (fields, parts) before any handler runs.
    if (status === 413 && /file too large/i.test(error.message)) {
      return problem(413, 'FILE_TOO_LARGE', 'the file is larger than MAX_UPLOAD_BYTES allows');
    }
    const body = error.getResponse();
    const detail =
      typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? error.message);
    return problem(status, HTTP_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'), detail);
  }
  return problem(500, 'INTERNAL_ERROR', 'The service failed to handle this request; it has been logged.');
}

function problem(status: number, code: string, detail: string, errors?: unknown[]): Problem {
  const title = code.toLowerCase().replace(/_/g, ' ');
  return {
    type: `https://docsvc.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: title.charAt(0).toUpperCase() + title.slice(1),
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const body = toProblem(error);
    // Unexpected failures are logged with their stack; an expected 5xx (a typed AppError such as
    // READ_MODEL_BEHIND) is the service working as designed, and only worth a warning.
    if (body.status >= 500 && (error instanceof AppError || body.code === 'DATABASE_UNAVAILABLE'))
      this.logger.warn(`${body.code}: ${error instanceof Error ? error.message : body.detail}`);
    else if (body.status >= 500)
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    const res = host.switchToHttp().getResponse<Response>();
    const retryAfter =
      body.code === 'DATABASE_UNAVAILABLE'
        ? DATABASE_RETRY_SECONDS
        : (error as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    send(res, body);
  }
}

/** Answers with the error as problem+json: for the middleware that runs before Nest's filters reach. */
export function sendProblem(res: Response, error: unknown): void {
  send(res, toProblem(error));
}

function send(res: Response, body: Problem): void {
  res.status(body.status).type('application/problem+json').json(body);
}
