import type { INestApplication } from '@nestjs/common';
import type { Clock } from '../../src/infrastructure/clock/clock.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createApp } from '../../src/app/bootstrap.js';
import { openTestDatabase, type TargetKind, type TestDatabase } from './databases.js';

export const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  editor: 'editor-carnivore-0123456789',
  otherEditor: 'editor-vegan-0123456789abc',
  freeReader: 'reader-free-carnivore-01234',
  premiumReader: 'reader-premium-carnivore-012',
  /** A premium reader of another coach: only its coach scope can refuse it. */
  otherReader: 'reader-premium-vegan-0123456',
  wrong: 'not-a-key-at-all-0123456789',
} as const;

export type Who = keyof typeof KEYS | 'none';

const API_KEYS = JSON.stringify([
  { key: KEYS.admin, role: 'admin', coaches: ['*'] },
  { key: KEYS.editor, role: 'editor', coaches: ['carnivore'] },
  { key: KEYS.otherEditor, role: 'editor', coaches: ['vegan'] },
  { key: KEYS.freeReader, role: 'reader', coaches: ['carnivore'], tier: 'free' },
  { key: KEYS.premiumReader, role: 'reader', coaches: ['carnivore'], tier: 'premium' },
  { key: KEYS.otherReader, role: 'reader', coaches: ['vegan'], tier: 'premium' },
]);

export interface RequestOptions {
  as?: Who;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  raw?: string;
}

/** Response bodies are whatever JSON the route returns; tests assert on their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
  bytes: Buffer;
}

export interface TestService {
  db: TestDatabase;
  /** The application itself, for what a test drives directly (a scheduled job). */
  app: INestApplication;
  base: string;
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  countEvents(): Promise<number>;
  close(): Promise<void>;
}

/** The whole HTTP service on a fresh database, with one key per role used by the tests. */
export async function startService(
  kind: TargetKind,
  env: Record<string, string> = {},
  options: { clock?: Clock; db?: TestDatabase } = {},
): Promise<TestService> {
  // A database handed in (a restored one) is the test's to drop; a fresh one is dropped with the service.
  const db = options.db ?? (await openTestDatabase(kind, { migrate: false }));
  const app: INestApplication = await createApp(
    loadConfig({
      ...(kind === 'postgres' ? db.env : {}),
      API_KEYS,
      PORT: '0',
      LOG_LEVEL: 'fatal',
      PROJECTOR_POLL_MS: '100',
      ...env,
    }),
    kind === 'pglite' ? db.client : undefined,
    options,
  );
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return {
    db,
    app,
    base,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const who = options.as ?? 'admin';
      if (who !== 'none') headers.authorization = `Bearer ${KEYS[who]}`;
      let body: RequestInit['body'] = options.form ?? options.raw;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      } else if (options.raw !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(base + path, { method, headers, body });
      const bytes = Buffer.from(await res.arrayBuffer());
      const type = res.headers.get('content-type') ?? '';
      const parsed =
        /json/.test(type) && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : bytes.toString('utf8');
      return { status: res.status, body: parsed, headers: res.headers, bytes };
    },
    async countEvents() {
      const { rows } = await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      return rows[0]!.n;
    },
    async close() {
      await app.close();
      if (!options.db) await db.drop();
    },
  };
}
