import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { requestContext, type RequestContext } from '../logging/request-context.js';
import { routePattern } from './route-guard.js';

export interface ObservedRequest {
  method: string;
  /** The route's pattern (`/documents/:id`), never the URL: one time series per route. */
  route: string;
  status: number;
  seconds: number;
}

/** What metrics hear of HTTP: every request once its response is sent (or its connection closed). */
export interface HttpRecorder {
  httpRequest(request: ObservedRequest): void;
}

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * An incoming id is kept when it is short and made of characters safe in a header, a log line and a URL (UUIDs,
 * ULIDs, trace ids); anything else is replaced, so that a client cannot write into the logs.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The label of a request no route of the service matches (unknown paths, the /docs assets). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Probes and scrapes come every few seconds: their access lines are at debug, not log. */
const QUIET_ROUTES = new Set(['/health', '/health/ready', '/metrics']);

/**
 * The first middleware: gives the request an id (the client's `X-Request-Id` when it is safe, else a new UUID),
 * returns it as `X-Request-Id` on every response (problem+json included: the header is set before anything can
 * answer), runs the rest of the request in its context (every log line carries the id), and once the response
 * is finished records its duration by route pattern and writes one access log line.
 */
export function observeRequests(express: Express, recorder: HttpRecorder): RequestHandler {
  const logger = new Logger('http');
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const incoming = req.headers[REQUEST_ID_HEADER.toLowerCase()];
    const requestId =
      typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const context: RequestContext = { requestId };
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      const route = req.route
        ? `${req.baseUrl}${(req.route as { path: string }).path}`
        : (routePattern(express, req.path) ?? UNMATCHED_ROUTE);
      const observed = { method: req.method, route, status: res.statusCode, seconds: elapsed(started) };
      recorder.httpRequest(observed);
      requestContext.run(context, () => accessLog(logger, observed, requestId));
    };
    res.once('finish', finish);
    res.once('close', finish);
    requestContext.run(context, next);
  };
}

function accessLog(logger: Logger, r: ObservedRequest, requestId: string): void {
  const durationMs = Math.round(r.seconds * 10_000) / 10;
  const line = `${r.method} ${r.route} ${r.status} ${durationMs} ms`;
  const fields = { method: r.method, route: r.route, status: r.status, durationMs, requestId };
  if (QUIET_ROUTES.has(r.route)) logger.debug(line, fields);
  else logger.log(line, fields);
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1000;
}
