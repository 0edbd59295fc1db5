import { parentPort, Worker } from 'node:worker_threads';

interface Reply {
  id: number;
  output?: unknown;
  error?: { name: string; message: string };
}

/**
 * Texts from this many characters up are sealed, unsealed and chunked in a worker thread: serialising, encrypting
 * or chunking a 20 MB document held the event loop, and every HTTP request of the process with it, for seconds
 * (BENCHMARKS.md, "Responsiveness"); below this size the thread's round trip costs more than it saves.
 */
export const OFF_THREAD_CHARS = 256 * 1024;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * One long-lived worker thread that runs CPU-bound requests off the event loop, in order (starting a thread per
 * call cost tens of ms of the main thread). It holds the process open only while a request is pending, and a
 * crash fails the pending requests and starts a new thread at the next one. The worker module calls serveOffThread.
 */
export class OffThread<Request, Output> {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    private readonly url: () => URL,
    private readonly name: string,
  ) {}

  run(request: Request): Promise<Output> {
    const worker = this.started();
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, request });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.url());
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the ${this.name} worker thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle({ id, output, error }: Reply): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    if (error) p.reject(Object.assign(new Error(error.message), { name: error.name }));
    else p.resolve(output);
  }
}

/** In a worker module: answers each request of its OffThread with `handle`'s output or error. */
export function serveOffThread<Request>(handle: (request: Request) => unknown): void {
  const port = parentPort;
  if (!port) return;
  port.on('message', ({ id, request }: { id: number; request: Request }) => {
    try {
      port.postMessage({ id, output: handle(request) } satisfies Reply);
    } catch (e) {
      const error = { name: (e as Error).name, message: (e as Error).message };
      port.postMessage({ id, error } satisfies Reply);
    }
  });
}
