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

/**
 * AUTH_FAILURES_PER_MINUTE failed authentications (401) per client address, in this process's memory: a client
 * that sends a new key on every request is never stopped by the per-key limit. Only 401s are counted; past the
 * limit, every request from the address is refused with 429 until the window ends, a valid key's too (otherwise
 * a right guess would still be told apart from a wrong one). Health checks are not limited.
 */
export function failedAuthLimitMiddleware(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req: Request) => req.path.startsWith('/health'),
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req: Request, res: Response) => res.statusCode !== 401,
    keyGenerator: (req: Request) => `auth-failures:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    handler: (_req: Request, res: Response) => {
      sendProblem(
        res,
        new RateLimitedError(
          `more than ${perMinute} failed authentications from this address in a minute; retry after the RateLimit-Reset header's seconds`,
        ),
      );
    },
  });
}
