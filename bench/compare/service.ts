/**
 * docsvc in-process on a benchmark database, as its own benchmarks run it (bench/scifact.ts, bench/rebuild.ts):
 * uploads through POST /documents, the chunks projection followed to the store's head, a rebuild timed from the
 * request until the projection is live again.
 */
import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/app/bootstrap.js';
import { loadConfig, type AppConfig } from '../../src/infrastructure/config/config.js';
import { SQL_CLIENT, type SqlClient } from '../../src/infrastructure/sql/sql-client.js';

const KEY = 'bench-admin-key-0123456789abcdef';

/**
 * The service's configuration in every benchmark here: defaults, no rate limit, no query cache, and the vector
 * index from the first chunk (the rebuild is compared with a raw load that builds it, whatever the corpus size).
 */
export function benchConfig(url: string): AppConfig {
  return loadConfig({
    DATABASE_URL: url,
    ADMIN_API_KEY: KEY,
    LOG_LEVEL: 'error',
    RATE_LIMIT_PER_MINUTE: '1000000',
    QUERY_CACHE_TTL_SECONDS: '0',
    SEARCH_WAIT_TIMEOUT_MS: '60000',
    PROJECTOR_POLL_MS: '50',
    VECTOR_INDEX_MIN_CHUNKS: '0',
  });
}

export interface Upload {
  title: string;
  content: string;
}

export function scifactDocuments(dir: string, limit = 0): Upload[] {
  const docs = readFileSync(join(dir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { _id: string; title?: string; text: string })
    .map((d) => ({ title: d.title?.trim() || d._id, content: d.text.trim() || d.title || d._id }));
  return limit ? docs.slice(0, limit) : docs;
}

export function scifactQueries(dir: string): string[] {
  return readFileSync(join(dir, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

export class Service {
  private constructor(
    private readonly app: INestApplication,
    private readonly base: string,
    readonly sql: SqlClient,
  ) {}

  static async start(url: string): Promise<Service> {
    const app = await createApp(benchConfig(url));
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    return new Service(app, base, app.get<SqlClient>(SQL_CLIENT));
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  }

  /** Uploads `docs` (`concurrency` at a time), then waits until every chunk is searchable; returns seconds. */
  async ingest(docs: readonly Upload[], coachId: string, concurrency = 8): Promise<number> {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < docs.length) {
          const d = docs[next++]!;
          await this.call('POST', '/documents', {
            coachId,
            ...d,
            metadata: { documentType: 'research', tags: [], accessTier: 'free' },
          });
        }
      }),
    );
    await this.caughtUp(coachId);
    // A bulk load drops the vector index and the idle projector builds it again: searchable at full speed then.
    while ((await this.vectorIndexes()) < 2) await new Promise((r) => setTimeout(r, 50));
    return (performance.now() - started) / 1000;
  }

  /** Until the chunks projection has passed the store's head and is live (its vector index built again). */
  async caughtUp(coachId: string): Promise<void> {
    const { rows } = await this.sql.query<{ p: string }>(
      `SELECT transaction_id::text || '.' || global_position::text AS p FROM events
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    // A busy server (or another job's long transaction, which holds back the horizon) can keep the projection
    // behind longer than one bounded wait: ask again.
    for (;;) {
      try {
        await this.call('POST', '/search', { coachId, query: 'warm-up', minPosition: rows[0]!.p });
        break;
      } catch (error) {
        if (!String(error).includes('READ_MODEL_BEHIND')) throw error;
      }
    }
    await this.until((s) => s.status === 'live' && s.lag === 0 && !s.rebuildRequested);
  }

  /** POST /admin/projections/chunks/rebuild, then until the projection is live again; returns seconds. */
  async rebuild(): Promise<number> {
    const before = Number((await this.status()).rebuilds);
    const t = performance.now();
    await this.call('POST', '/admin/projections/chunks/rebuild');
    await this.until(
      (s) => Number(s.rebuilds) > before && !s.rebuildRequested && s.status === 'live' && s.lag === 0,
    );
    return (performance.now() - t) / 1000;
  }

  /** The vector indexes there (current and past chunks); the projection builds them when idle. */
  async vectorIndexes(): Promise<number> {
    const { rows } = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'chunks' AND indexname LIKE 'chunks_vec_%'`,
    );
    return rows[0]!.n;
  }

  private async status(): Promise<Record<string, unknown>> {
    const all = (await this.call('GET', '/admin/projections')) as Array<Record<string, unknown>>;
    return all.find((p) => p.name === 'chunks')!;
  }

  private async until(done: (s: Record<string, unknown>) => boolean): Promise<void> {
    while (!done(await this.status())) await new Promise((r) => setTimeout(r, 50));
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
