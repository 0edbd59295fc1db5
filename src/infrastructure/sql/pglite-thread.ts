import { Worker } from 'node:worker_threads';
import { workerUrl } from '../worker-url.js';
import type { PgliteReply, PgliteRequest, PgliteWorkerOptions, SerializedError } from './pglite-worker.js';

type Request = PgliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The main thread's end of the PGlite worker: numbered requests, their replies, and NOTIFY payloads. The
 * worker is referenced (keeps the process alive) only while a request is in flight, as an in-process PGlite
 * would: an idle client, or one only listening, does not hold a finished CLI command open.
 */
export class PgliteThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly subscribers = new Map<number, (payload: string) => void>();
  private exited: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: PgliteReply) => this.receive(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the PGlite worker thread exited (code ${code})`)));
    worker.unref();
  }

  static async start(options: PgliteWorkerOptions): Promise<PgliteThread> {
    const worker = new Worker(workerUrl(import.meta.url, 'pglite-worker'), { workerData: options });
    const ready = await new Promise<PgliteReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the PGlite worker thread exited (code ${code})`)));
    }).catch(async (error: Error) => {
      await worker.terminate();
      throw error;
    });
    if ('ready' in ready && !ready.ready) {
      await worker.terminate();
      throw deserializeError(ready.error);
    }
    return new PgliteThread(worker);
  }

  get closed(): boolean {
    return this.exited !== undefined;
  }

  call(request: Request): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as PgliteRequest);
    });
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const listener = (await this.call({ op: 'listen', channel })) as number;
    this.subscribers.set(listener, onNotify);
    return async () => {
      this.subscribers.delete(listener);
      if (!this.exited) await this.call({ op: 'unlisten', listener });
    };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await this.call({ op: 'close' });
    this.exited = new Error('the embedded database is closed');
    await this.worker.terminate();
  }

  private receive(reply: PgliteReply): void {
    if ('notify' in reply) return this.subscribers.get(reply.notify)?.(reply.payload);
    if (!('id' in reply)) return;
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(deserializeError(reply.error));
  }

  private fail(error: Error): void {
    this.exited ??= error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/** The worker's error as it was thrown there: its class name, message, stack and SQLSTATE fields. */
function deserializeError({ name, message, stack, fields }: SerializedError): Error {
  const error = Object.assign(new Error(message), fields);
  error.name = name;
  if (stack) error.stack = stack;
  return error;
}
