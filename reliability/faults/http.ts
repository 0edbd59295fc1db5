/** Requests to the service under test, as its admin, each with its own deadline. */
import { ADMIN_KEY } from './processes.js';

export interface Answer {
  status: number;
  ms: number;
  body: Record<string, unknown> | undefined;
  /** The request did not get an answer (network error or our own timeout). */
  error?: string;
}

/** One request with its own deadline (a hang shows as an error after `timeoutMs`, never as a stuck check). */
export async function call(
  base: string,
  method: string,
  path: string,
  json?: unknown,
  timeoutMs = 15_000,
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(json ? { 'content-type': 'application/json' } : {}),
      },
      body: json ? JSON.stringify(json) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    return { status: res.status, ms: performance.now() - started, body };
  } catch (error) {
    return { status: 0, ms: performance.now() - started, body: undefined, error: (error as Error).message };
  }
}
