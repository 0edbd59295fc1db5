import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while a request is handled carries. */
export interface RequestContext {
  requestId: string;
}

/** The request being handled, if any: set by the HTTP edge (request-observer.ts), read by the logger. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The id of the request being handled, or undefined outside a request (start-up, projectors, the CLI). */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}
