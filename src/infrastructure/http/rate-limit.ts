import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { AppError } from '../../domain/errors.js';
import { sendProblem } from './problem.filter.js';

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  readonly status = 429;
}

/**
 * RATE_LIMIT_PER_MINUTE requests per API key (per address without one), in this process's memory; health checks
 * are not counted. Answers 429 problem+json with RateLimit headers (draft-8).
 */
export function rateLimitMiddleware(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req: Request) => req.path.startsWith('/health'),
    keyGenerator: (req: Request) => {
      const auth = req.headers.authorization;
      return auth
        ? `key:${createHash('sha256').update(auth).digest('hex')}`
        : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (_req: Request, res: Response) => {
      sendProblem(
        res,
        new RateLimitedError(
          `more than ${perMinute} requests in a minute; retry after the RateLimit-Reset header's seconds`,
        ),
      );
    },
  });
}
