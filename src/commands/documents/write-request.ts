import type { Principal } from '../../domain/access.js';
import { ValidationFailedError } from '../../infrastructure/http/validation.js';

/** What a write to an existing document brings from HTTP. */
export interface WriteRequest {
  principal: Principal;
  documentId: string;
  body: unknown;
  /** The If-Match header, e.g. `"3"` or `W/"3"`. */
  ifMatch?: string;
  idempotencyKey?: string;
}

/** If-Match or `expectedVersion` in the body; both at once must agree. */
export function expectedVersionOf(request: WriteRequest, fromBody: number | undefined): number | undefined {
  let fromHeader: number | undefined;
  if (request.ifMatch !== undefined) {
    const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(request.ifMatch.trim());
    if (!match)
      throw new ValidationFailedError('If-Match must be a version in quotes, e.g. "3"', {
        errors: [{ path: 'header.if-match', message: 'not a version' }],
      });
    fromHeader = Number(match[1]);
  }
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new ValidationFailedError('If-Match and expectedVersion disagree', {
      errors: [{ path: 'body.expectedVersion', message: 'differs from If-Match' }],
    });
  }
  return fromHeader ?? fromBody;
}
