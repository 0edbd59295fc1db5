/**
 * One ingest of each peer on a fresh database, timed to "searchable" and to "indexed", with its memory, database
 * size and the check that it holds exactly the expected chunk texts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { digest, type BenchDoc } from './corpus.js';
import {
  chunkScope,
  headPosition,
  startService,
  storedHashes,
  uploadCsv,
  uploadJson,
  waitIndexed,
  waitSearchable,
  type Service,
} from './docsvc-side.js';
import type { CorpusSource, IngestResult, Request, Variant } from './langchain-worker.js';
import { BackendMemory, databaseMb, freshDatabase, peakRssMb, urlOf } from './measure.js';

export interface Ingest {
  peer: string;
  searchableMs: number;
  indexedMs: number;
  /** false: docsvc built no vector index, the corpus being under VECTOR_INDEX_MIN_CHUNKS (every search exact). */
  indexBuilt?: boolean;
  appRssMb: number;
  backendMb: number;
  dbMb: number;
  chunks: number;
}

/** A LangChain worker process, asked one thing at a time. */
export class LangChainPeer {
  private readonly child: ChildProcess;
  private pending?: { resolve(v: unknown): void; reject(e: Error): void };

  constructor() {
    this.child = fork(new URL('./langchain-worker.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m) => {
      const msg = m as { ok: boolean; body?: unknown; error?: string };
      const p = this.pending;
      this.pending = undefined;
      if (msg.ok) p?.resolve(msg.body);
      else p?.reject(new Error(`LangChain worker: ${msg.error}`));
    });
    this.child.on('exit', (code) => {
      if (code) this.pending?.reject(new Error(`LangChain worker exited with ${code}`));
    });
  }

  ask<T>(request: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending = { resolve: resolve as (v: unknown) => void, reject };
      this.child.send(request);
    });
  }

  /** Ends the worker at once (a failed run: nothing more to ask it). */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Ends the worker; its peak RSS. */
  async stop(): Promise<number> {
    const { maxRssMb } = await this.ask<{ maxRssMb: number }>({ cmd: 'stop' });
    return maxRssMb;
  }
}

export async function tableHashes(sql: pg.Client, table: string): Promise<string[]> {
  const { rows } = await sql.query<{ h: string }>(
    `SELECT encode(sha256(convert_to(text, 'UTF8')), 'hex') AS h FROM ${table}`,
  );
  return rows.map((r) => r.h).sort();
}

function checkHashes(peer: string, got: string[], expected: string): void {
  if (digest(got) !== expected)
    throw new Error(`${peer}: its chunk texts differ from the expected ones (${got.length} chunks)`);
}

/** LangChain: a worker process ingests on a fresh database; the worker stays up for the searches. */
export async function ingestLangChain(
  variant: Variant,
  db: string,
  source: CorpusSource,
  expected: string,
): Promise<{ ingest: Omit<Ingest, 'appRssMb'>; peer: LangChainPeer; table: string }> {
  const url = await freshDatabase(db);
  const memory = new BackendMemory();
  await memory.start(db);
  const peer = new LangChainPeer();
  const sql = new pg.Client({ connectionString: url });
  try {
    const r = await peer.ask<IngestResult>({ cmd: 'ingest', variant, url, source });
    await sql.connect();
    checkHashes(`LangChain (${variant})`, await tableHashes(sql, r.table), expected);
    const ingest = {
      peer: `langchain-${variant}`,
      ...r,
      backendMb: await memory.stop(),
      dbMb: await databaseMb(db),
    };
    return { ingest, peer, table: r.table };
  } catch (error) {
    peer.kill();
    await memory.stop();
    throw error;
  } finally {
    await sql.end().catch(() => undefined);
  }
}

/**
 * docsvc: the service on a fresh database; the documents uploaded one by one (`json`) or as CSV files (`csv`).
 * Undefined when the CSV route does not exist. The service is returned running (for the searches).
 */
export async function ingestDocsvc(
  path: 'json' | 'csv',
  db: string,
  docs: BenchDoc[],
  expected: string,
  options: { clients: number; csvRows: number },
): Promise<{ ingest: Ingest; service: Service; sql: pg.Client } | undefined> {
  const url = await freshDatabase(db);
  const service = await startService(url);
  const sql = new pg.Client({ connectionString: urlOf(db) });
  await sql.connect();
  const memory = new BackendMemory();
  await memory.start(db);
  try {
    const started = performance.now();
    let position: string | undefined;
    if (path === 'json') position = await uploadJson(service.base, docs, options.clients);
    else {
      const r = await uploadCsv(service.base, docs, options.clients, options.csvRows);
      if (r === 'unavailable') {
        await Promise.all([memory.stop(), service.stop(), sql.end()]);
        return undefined;
      }
      position = r ?? (await headPosition(sql));
    }
    await waitSearchable(service.base, position);
    const searchableMs = performance.now() - started;
    const indexBuilt = await waitIndexed(sql);
    const indexedMs = performance.now() - started;
    const backendMb = await memory.stop();
    const hashes = (await storedHashes(sql)).sort();
    checkHashes(`docsvc (${path})`, hashes, expected);
    await chunkScope(sql);
    const ingest: Ingest = {
      peer: `docsvc-${path}`,
      searchableMs,
      indexedMs,
      indexBuilt,
      appRssMb: peakRssMb(service.child.pid!),
      backendMb,
      dbMb: await databaseMb(db),
      chunks: hashes.length,
    };
    return { ingest, service, sql };
  } catch (error) {
    await Promise.allSettled([memory.stop(), service.stop(), sql.end()]);
    throw error;
  }
}
