/**
 * The docsvc peer: the built service (dist/src/main.js serve) on its own database, written to through its HTTP
 * API (single JSON uploads, or CSV imports) and searched through POST /search.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { comparePositions, parsePosition } from '../../src/infrastructure/event-store/position.js';
import { EXACT_SEARCH_MAX } from '../../src/projections/chunks/planner-estimates.js';
import type { BenchDoc } from './corpus.js';
import { listeningPort } from '../support.js';

export const KEY = 'bench-compare-admin-key-0123456789';
export const COACH = 'bench';
const METADATA = { documentType: 'research', tags: [], accessTier: 'free' };

export interface Service {
  child: ChildProcess;
  base: string;
  stop(): Promise<void>;
}

/**
 * Starts the service. The vector floor is off (SEARCH_MIN_SIMILARITY -1): LangChain has none, and recall@10 is
 * measured on 10 results; the query cache is off, so that every search is one.
 */
export async function startService(
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<Service> {
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: KEY,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'log',
      RATE_LIMIT_PER_MINUTE: '1000000',
      QUERY_CACHE_TTL_SECONDS: '0',
      SEARCH_MIN_SIMILARITY: '-1',
      SEARCH_WAIT_TIMEOUT_MS: '60000',
      JSON_BODY_LIMIT_BYTES: String(20 * 2 ** 20),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child);
  child.stdout!.resume();
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function call(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(base + path, {
    ...init,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(init.body instanceof FormData ? {} : { 'content-type': 'application/json' }),
    },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const later = (a: string | undefined, b: string) =>
  a === undefined || comparePositions(parsePosition(b), parsePosition(a)) > 0 ? b : a;

/** Each document as one POST /documents (JSON) by `clients` concurrent clients; the last position written. */
export async function uploadJson(base: string, docs: BenchDoc[], clients: number): Promise<string> {
  let next = 0;
  let last: string | undefined;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < docs.length) {
        const d = docs[next++]!;
        const r = await call(base, '/documents', {
          method: 'POST',
          body: JSON.stringify({ coachId: COACH, title: d.title, content: d.content, metadata: METADATA }),
        });
        if (r.status !== 201) throw new Error(`POST /documents: ${r.status} ${JSON.stringify(r.body)}`);
        last = later(last, r.body.position as string);
      }
    }),
  );
  return last!;
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function csvOf(docs: BenchDoc[]): string {
  const head = 'coach_id,title,content,document_type,access_tier,tags,author,publication_date';
  const rows = docs.map((d) =>
    [COACH, d.title, d.content, 'research', 'free', '', '', ''].map(csvField).join(','),
  );
  return [head, ...rows].join('\n') + '\n';
}

/**
 * The documents as CSV files of `rows` rows, POST /imports/csv by `clients` concurrent clients; the last position
 * written (when the route gives one; else undefined), or 'unavailable' when the service has no such route.
 */
export async function uploadCsv(
  base: string,
  docs: BenchDoc[],
  clients: number,
  rows: number,
): Promise<string | undefined | 'unavailable'> {
  const files: BenchDoc[][] = [];
  for (let i = 0; i < docs.length; i += rows) files.push(docs.slice(i, i + rows));
  let next = 0;
  let last: string | undefined;
  let unavailable = false;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < files.length && !unavailable) {
        const file = files[next++]!;
        const form = new FormData();
        form.set('file', new Blob([csvOf(file)], { type: 'text/csv' }), 'import.csv');
        const r = await call(base, '/imports/csv', { method: 'POST', body: form });
        // The route itself is missing (a 404 from the router, not about a document).
        if (r.status === 404 && /Cannot POST/.test(String(r.body.detail))) return void (unavailable = true);
        const failed = r.body.failed as unknown[] | undefined;
        if (r.status !== 200 || r.body.imported !== file.length || failed?.length)
          throw new Error(`POST /imports/csv: ${r.status} ${JSON.stringify(r.body).slice(0, 2000)}`);
        if (typeof r.body.position === 'string') last = later(last, r.body.position);
      }
    }),
  );
  return unavailable ? 'unavailable' : last;
}

/** The store's head (when a write path gives no position). */
export async function headPosition(sql: pg.Client): Promise<string> {
  const { rows } = await sql.query<{ p: string }>(
    `SELECT transaction_id::text || '.' || global_position::text AS p FROM events
     ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  return rows[0]!.p;
}

/** Until a search at `position` answers (the read side has caught up with the last write). */
export async function waitSearchable(base: string, position: string): Promise<void> {
  for (;;) {
    const r = await call(base, '/search', {
      method: 'POST',
      body: JSON.stringify({ coachId: COACH, query: 'warm-up', mode: 'text', minPosition: position }),
    });
    if (r.status === 200) return;
    if (r.status !== 503) throw new Error(`POST /search: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/**
 * Until the current chunks' HNSW index exists (docsvc drops it for a bulk load and builds it once caught up);
 * false at once when the service builds none: fewer current chunks than its VECTOR_INDEX_MIN_CHUNKS (the default,
 * EXACT_SEARCH_MAX, on a server), where every vector search is an exact scan. Called once searchable.
 */
export async function waitIndexed(sql: pg.Client): Promise<boolean> {
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE is_current');
  if (rows[0]!.n < EXACT_SEARCH_MAX) return false;
  for (;;) {
    const { rows } = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname
       JOIN pg_index x ON x.indexrelid = c.oid
       WHERE i.tablename = 'chunks' AND i.indexname ~ '^chunks_vec_hnsw_' AND i.indexname !~ '_past$' AND x.indisvalid`,
    );
    if (rows[0]!.n > 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function search(
  base: string,
  query: string,
  mode: 'vector' | 'hybrid' | 'text',
  k: number,
): Promise<{ ms: number; distances: number[] }> {
  const started = performance.now();
  const r = await call(base, '/search', {
    method: 'POST',
    body: JSON.stringify({ coachId: COACH, query, k, mode }),
  });
  const ms = performance.now() - started;
  if (r.status !== 200) throw new Error(`POST /search (${mode}): ${r.status} ${JSON.stringify(r.body)}`);
  return { ms, distances: (r.body.results as Array<{ score: number }>).map((h) => 1 - h.score) };
}

/** The chunks' configuration (space, chunker): the predicate of docsvc's partial vector index. */
export async function chunkScope(sql: pg.Client): Promise<{ space: string; chunker: string }> {
  const { rows } = await sql.query<{ space: string; chunker: string }>(
    'SELECT DISTINCT space, chunker FROM chunks WHERE is_current',
  );
  if (rows.length !== 1) throw new Error(`expected one chunks configuration, found ${rows.length}`);
  return rows[0]!;
}

/** The bare HNSW query on docsvc's chunks table (its partial index's expression and predicate), from the client. */
export function bareHnswSql(scope: { space: string; chunker: string }, dims: number): string {
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  return `SELECT id, embedding::vector(${dims}) <=> $1::vector(${dims}) AS d FROM chunks
    WHERE is_current AND space = ${q(scope.space)} AND chunker = ${q(scope.chunker)}
    ORDER BY embedding::vector(${dims}) <=> $1::vector(${dims}) LIMIT 10`;
}

/** The embedded-text hashes of the current chunks, sorted. */
export async function storedHashes(sql: pg.Client): Promise<string[]> {
  const { rows } = await sql.query<{ h: string }>(
    'SELECT embedded_sha256 AS h FROM chunks WHERE is_current ORDER BY 1',
  );
  return rows.map((r) => r.h);
}
