import type { INestApplication } from '@nestjs/common';
import type { Clock } from '../../src/infrastructure/clock/clock.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createApp } from '../../src/app/bootstrap.js';
import { EVENT_STORE, type EventStore } from '../../src/infrastructure/event-store/event-store.js';
import { openTestDatabase, targets, type TargetKind, type TestDatabase } from './databases.js';
import { startStandIn } from './esdb-stand-in/index.js';

/**
 * Where a service test runs: each database target, and events in EventStoreDB with the read models in PGlite —
 * the in-process protocol stand-in, or the live server EVENTSTORE_CONNECTION_STRING names (docs/eventstoredb.md).
 */
export type ServiceKind = TargetKind | 'eventstoredb';

export function serviceTargets(): ServiceKind[] {
  return [...targets(), 'eventstoredb'];
}

/** The EventStoreDB the tests use: the live server EVENTSTORE_CONNECTION_STRING names, or a new stand-in. */
export async function testEventStore(): Promise<{ connection: string; stop(): void }> {
  const live = process.env.EVENTSTORE_CONNECTION_STRING;
  if (live) return { connection: live, stop: () => undefined };
  const standIn = await startStandIn();
  return { connection: standIn.connectionString, stop: () => standIn.stop() };
}

/** The environment and the clean-up of the event store a service kind needs; a server handed in stays running. */
async function eventStoreFor(
  kind: ServiceKind,
  given?: string,
): Promise<{ env: Record<string, string>; stop(): void }> {
  if (kind !== 'eventstoredb') return { env: {}, stop: () => undefined };
  const { connection, stop } = given ? { connection: given, stop: () => undefined } : await testEventStore();
  return { env: { EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: connection }, stop };
}

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

export const API_KEYS = JSON.stringify([
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
  /** The service's own event store (PostgreSQL or EventStoreDB), to read the log as the service does. */
  eventStore(): EventStore;
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: Clock;
  /** A database handed in (a restored one, or one two services share); an EventStoreDB service then uses its kind. */
  db?: TestDatabase;
  /** With 'eventstoredb': a server the test started (shared by two services) instead of a new stand-in. */
  eventStoreConnection?: string;
}

/** The whole HTTP service on a fresh database, with one key per role used by the tests. */
export async function startService(
  serviceKind: ServiceKind,
  env: Record<string, string> = {},
  options: ServiceOptions = {},
): Promise<TestService> {
  const kind: TargetKind = serviceKind === 'eventstoredb' ? (options.db?.kind ?? 'pglite') : serviceKind;
  const events = await eventStoreFor(serviceKind, options.eventStoreConnection);
  // A database handed in (a restored one) is the test's to drop; a fresh one is dropped with the service.
  const db = options.db ?? (await openTestDatabase(kind, { migrate: false }));
  const app: INestApplication = await createApp(
    loadConfig({
      ...(kind === 'postgres' ? db.env : {}),
      API_KEYS,
      PORT: '0',
      LOG_LEVEL: 'fatal',
      PROJECTOR_POLL_MS: '100',
      ...events.env,
      ...env,
    }),
    kind === 'pglite' ? db.client : undefined,
    { clock: options.clock },
  );
  await app.listen(0, '127.0.0.1');
  const eventStore = () => app.get<symbol, EventStore>(EVENT_STORE);
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
    // Every committed event: the store's own count stops at the settled horizon, which on a shared PostgreSQL
    // server any other open transaction (another test file's) holds back, so a just-answered write may not be in it.
    countEvents: async () =>
      serviceKind === 'eventstoredb'
        ? eventStore().countAfter(undefined, Number.MAX_SAFE_INTEGER)
        : (await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n,
    eventStore,
    async close() {
      await app.close();
      events.stop();
      if (!options.db) await db.drop();
    },
  };
}
