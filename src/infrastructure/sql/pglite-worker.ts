import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

/**
 * The thread that owns the embedded database (pglite-client.ts says why it is not the main thread). It serves
 * one request at a time in arrival order, as PGlite itself would: statements outside a transaction wait for an
 * open one to end (PGlite's own mutex), which keeps the single session's semantics the in-process client had.
 */
export interface PgliteWorkerOptions {
  /** undefined = in memory. */
  dataDir: string | undefined;
  sharedBuffers: string;
}

export type PgliteRequest = { id: number } & (
  | { op: 'query'; tx?: number; text: string; params?: unknown[] }
  | { op: 'exec'; tx?: number; script: string }
  | { op: 'begin' }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'listen'; channel: string }
  | { op: 'unlisten'; listener: number }
  | { op: 'close' }
);

export type PgliteReply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: SerializedError }
  | { notify: number; payload: string }
  | { ready: true }
  | { ready: false; error: SerializedError };

/** An error's own fields (SQLSTATE `code`, `constraint`, `detail`…): a structured clone would keep only its message. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, string | number>;
}

export function serializeError(error: unknown): SerializedError {
  const e = error instanceof Error ? error : new Error(String(error));
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(e)) {
    // The query and its parameters stay here: parameters can be megabytes and the caller has them anyway.
    if (key === 'query' || key === 'params' || key === 'queryOptions') continue;
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

/**
 * ANALYZE holds its sample of rows in memory, up to 300 × this many; on a server that memory goes back when the
 * statement ends, but the embedded database's WebAssembly memory keeps its highest mark for the life of the
 * process. PostgreSQL's default (100: 30,000 rows, ~80 MB of chunks with 512-dimension vectors kept in the row)
 * raised a soak's resident memory a step at each ANALYZE of the chunks table until the sample was full
 * (RELIABILITY.md, "Soak"). 20 samples 6,000 rows: 20 most common values and histogram buckets per column, enough
 * for the filters the planner weighs on a corpus this engine is meant for.
 */
const PGLITE_STATISTICS_TARGET = 20;

async function open({ dataDir, sharedBuffers }: PgliteWorkerOptions): Promise<PGlite> {
  const create = () =>
    new PGlite(dataDir ? `${dataDir}/pgdata` : 'memory://', {
      extensions: { vector },
      postgresqlconf: [
        `shared_buffers=${sharedBuffers}`,
        `default_statistics_target=${PGLITE_STATISTICS_TARGET}`,
      ],
    });
  const db = create();
  await db.waitReady;
  return db;
}

class Host {
  private readonly txs = new Map<number, Transaction>();
  private readonly ends = new Map<number, { commit: () => void; rollback: (e: Error) => void }>();
  private readonly outcomes = new Map<number, Promise<unknown>>();
  private readonly listeners = new Map<number, () => Promise<void>>();

  constructor(
    private readonly db: PGlite,
    private readonly post: (reply: PgliteReply) => void,
  ) {}

  async handle(r: PgliteRequest): Promise<unknown> {
    switch (r.op) {
      case 'query': {
        const result = await this.on(r.tx).query(r.text, r.params);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      }
      case 'exec':
        return void (await this.on(r.tx).exec(r.script));
      case 'begin':
        return this.begin();
      case 'end':
        return this.end(r.tx, r.commit);
      case 'listen': {
        const unsubscribe = await this.db.listen(r.channel, (payload) =>
          this.post({ notify: r.id, payload }),
        );
        this.listeners.set(r.id, unsubscribe);
        return r.id;
      }
      case 'unlisten': {
        const unsubscribe = this.listeners.get(r.listener);
        this.listeners.delete(r.listener);
        if (unsubscribe && !this.db.closed) await unsubscribe();
        return;
      }
      case 'close':
        if (!this.db.closed) await this.db.close();
        return;
    }
  }

  private on(tx: number | undefined): Pick<PGlite, 'query' | 'exec'> | Transaction {
    if (tx === undefined) return this.db;
    const open = this.txs.get(tx);
    if (!open) throw new Error(`transaction ${tx} is not open`);
    return open;
  }

  /** Resolves with the transaction's number once it has begun; `end` settles it. */
  private begin(): Promise<number> {
    return new Promise((begun, failed) => {
      const id = nextTx++;
      const done = this.db.transaction(
        (tx) =>
          new Promise<void>((commit, rollback) => {
            this.txs.set(id, tx);
            this.ends.set(id, { commit, rollback });
            begun(id);
          }),
      );
      this.outcomes.set(id, done);
      done.catch(failed).finally(() => this.txs.delete(id));
    });
  }

  private async end(tx: number, commit: boolean): Promise<void> {
    const end = this.ends.get(tx);
    const outcome = this.outcomes.get(tx);
    if (!end || !outcome) throw new Error(`transaction ${tx} is not open`);
    this.ends.delete(tx);
    this.outcomes.delete(tx);
    if (commit) end.commit();
    else end.rollback(new Error('rolled back by the caller'));
    try {
      await outcome;
    } catch (error) {
      if (commit) throw error;
    }
  }
}

let nextTx = 1;

async function main(): Promise<void> {
  const port = parentPort!;
  const post = (reply: PgliteReply) => port.postMessage(reply);
  let db: PGlite;
  try {
    db = await open(workerData as PgliteWorkerOptions);
  } catch (error) {
    return post({ ready: false, error: serializeError(error) });
  }
  const host = new Host(db, post);
  port.on('message', (r: PgliteRequest) => {
    host.handle(r).then(
      (value) => post({ id: r.id, ok: true, value }),
      (error: unknown) => post({ id: r.id, ok: false, error: serializeError(error) }),
    );
  });
  post({ ready: true });
}

if (parentPort) await main();
