/**
 * The service under test: the build (`bin/docsvc serve`) on PGlite in a temp DATA_DIR, with one editor
 * key, and the multipart upload the run sends it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnServe } from '../support/service.js';
import { HANG_MS, ocr, repo } from './options.js';

export const EDITOR_KEY = 'editor-carnivore-mutations-0123456789';
const META = JSON.stringify({ documentType: 'research', tags: ['mutated'], accessTier: 'free' });

export interface Service {
  child: ChildProcess;
  base: string;
  exited: Promise<number | null>;
  /** The last lines the service wrote. */
  log(): string;
}

export function startService(dataDir: string): Promise<Service> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL; // PGlite on disk, in DATA_DIR
  const child = spawnServe(
    {
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      API_KEYS: JSON.stringify([{ key: EDITOR_KEY, role: 'editor', coaches: ['carnivore'] }]),
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'log',
      ...(ocr ? {} : { OCR_MAX_PAGES: '0' }),
    },
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a signal to ours (a terminal's ^C, a job control's) is not one to the service.
      detached: true,
    },
  );
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code, signal) => r(code ?? (signal ? (`${signal}` as unknown as number) : null))),
  );
  let tail = '';
  const keep = (c: Buffer) => (tail = (tail + c.toString()).slice(-4000));
  child.stderr!.on('data', keep);
  return new Promise((resolveStart, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      keep(c);
      out += c.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) {
        out = '';
        child.stdout!.off('data', onData);
        child.stdout!.on('data', keep);
        resolveStart({ child, base: `http://127.0.0.1:${m[1]}`, exited, log: () => tail });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`the service exited (${code}) before listening: ${tail}`)));
  });
}

export async function answersHealth(base: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

export interface Answer {
  status: number;
  code: string;
  ms: number;
  body: string;
}

/** `idempotencyKey` makes a resend after a lost connection safe: the service answers the first write again. */
export async function upload(
  base: string,
  name: string,
  bytes: Buffer,
  idempotencyKey?: string,
): Promise<Answer> {
  const form = new FormData();
  form.set('coachId', 'carnivore');
  form.set('metadata', META);
  form.set('file', new Blob([bytes]), name);
  const started = performance.now();
  try {
    const res = await fetch(`${base}/documents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${EDITOR_KEY}`,
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: form,
      signal: AbortSignal.timeout(HANG_MS + 60_000),
    });
    const body = await res.text();
    let code = '';
    try {
      code = (JSON.parse(body) as { code?: string }).code ?? '';
    } catch {
      code = '(not json)';
    }
    return { status: res.status, code, ms: performance.now() - started, body };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? (error as Error).name;
    return {
      status: 0,
      code,
      ms: performance.now() - started,
      body: `${String(error)}: ${cause?.message ?? ''}`,
    };
  }
}
