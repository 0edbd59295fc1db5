/** Sending the authorisation matrix's requests, and the environment its service runs with. */
import { KEYS, type Who } from '../service.js';
import type { MatrixRequest } from './requests.js';

export interface Outcome {
  status: number;
  text: string;
}

/** One request as a caller; a server-sent stream is read for `streamMs`, then dropped. */
export async function send(base: string, who: Who, r: MatrixRequest, streamMs = 400): Promise<Outcome> {
  const headers: Record<string, string> = { ...r.headers };
  if (who !== 'none') headers.authorization = `Bearer ${KEYS[who]}`;
  let body: RequestInit['body'];
  if (r.form) body = r.form();
  else if (r.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(r.json);
  }
  const abort = new AbortController();
  const res = await fetch(base + r.path, { method: r.method, headers, body, signal: abort.signal });
  if (!/event-stream/.test(res.headers.get('content-type') ?? '')) {
    return { status: res.status, text: await res.text() };
  }
  const reader = res.body!.getReader();
  const chunks: Buffer[] = [];
  const until = Date.now() + streamMs;
  const stop = setTimeout(() => abort.abort(), streamMs);
  try {
    while (Date.now() < until) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
    }
  } catch {
    // aborted: what came so far is the answer
  } finally {
    clearTimeout(stop);
    abort.abort();
  }
  return { status: res.status, text: Buffer.concat(chunks).toString('utf8') };
}

/** Environment for the matrix's service: its hundreds of refusals must not run into the per-address limits. */
export const MATRIX_ENV = { AUTH_FAILURES_PER_MINUTE: '1000000', RATE_LIMIT_PER_MINUTE: '1000000' };
