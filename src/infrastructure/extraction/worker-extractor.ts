import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { detectContainer } from './detect.js';
import { checkTextSize, extractSmallText } from './extract.js';
import {
  DEFAULT_EXTRACTION_LIMITS,
  ExtractionError,
  checkSize,
  memoryExceeded,
  type Extracted,
  type ExtractionHint,
  type ExtractionLimits,
  type TextExtractor,
} from './extraction.js';
import type { WorkerFailure, WorkerReply, WorkerRequest } from './worker.js';

/**
 * Extraction in a worker thread per file (small plain text and Markdown excepted, see extractSmallText), so
 * that a hostile file costs a thread and not the server: the
 * thread has a heap limit (out of memory ends the thread, not the process) and is terminated when it runs
 * out of time. At most `concurrency` workers run at once; the others wait their turn, their clock not yet
 * running.
 *
 * The heap limit does not cover ArrayBuffers, and pdf.js decodes streams into them: a 1 MB PDF whose content
 * stream inflates to 1 GB grew the process by 1.5 GB. So the worker refuses any one buffer above a quarter of
 * maxMemoryMb (bounded-buffers.ts), and the process's RSS is watched: growth beyond maxMemoryMb per running
 * extraction, from when the worker has loaded its parser, stops the worker. The RSS is the process's, so
 * concurrent extractions share the allowance; it bounds the total, not each file exactly.
 */
export class WorkerTextExtractor implements TextExtractor {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS,
    private readonly concurrency: number = Math.max(1, availableParallelism()),
  ) {}

  async extract(bytes: Uint8Array, hint: ExtractionHint = {}): Promise<Extracted> {
    checkSize(bytes, this.limits);
    const container = detectContainer(bytes);
    checkTextSize(bytes, container, this.limits);
    // Empty, binary and UTF-16 files are refused from their first bytes, without starting a worker.
    const small = extractSmallText(bytes, container, hint);
    if (small) return small;
    await this.acquire();
    try {
      // A private copy is transferred (not cloned): the caller keeps its buffer, pdf.js may detach ours.
      // `new Uint8Array(bytes)` copies; a Node Buffer's `slice()` would not, and transferring its (possibly
      // pooled, shared) ArrayBuffer would detach the caller's bytes and whatever else lives in that pool.
      return await runInWorker(new Uint8Array(bytes), hint, this.limits, () => this.running);
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

const RSS_FACTOR = 1;
/** Time for the OCR's last page after its own deadline (a dense page renders and reads in seconds). */
export const OCR_LAST_PAGE_MS = 30_000;
const CODE_HEADROOM_MB = 64;
const RSS_POLL_MS = 50;

function runInWorker(
  bytes: Uint8Array<ArrayBuffer>,
  hint: ExtractionHint,
  limits: ExtractionLimits,
  running: () => number,
): Promise<Extracted> {
  return new Promise((resolve, reject) => {
    const worker = startWorker({ bytes, hint, limits });
    let watch: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      outcome();
      void worker.terminate();
    };
    let timer = setTimeout(() => settle(() => reject(timedOut(limits))), limits.timeoutMs);
    worker.on('message', (message: unknown) => {
      try {
        // OCR has begun (a scanned PDF): the worker's time is now the OCR's, which stops starting pages in time.
        if (isObject(message) && message.kind === 'ocr') {
          clearTimeout(timer);
          timer = setTimeout(
            () => settle(() => reject(timedOut(limits))),
            limits.ocrTimeoutMs + OCR_LAST_PAGE_MS,
          );
          return;
        }
        if (isReady(message)) {
          watch = watchRss(limits, running, (grownMb) => settle(() => reject(rssExceeded(limits, grownMb))));
          return;
        }
        const reply = replyOf(message);
        settle(() => (reply.ok ? resolve(reply.extracted) : reject(fromWorker(reply.error))));
      } catch (error) {
        // A message we do not understand must not take the server down with it: the file is refused.
        settle(() => reject(failed(error instanceof Error ? error : new Error(String(error)), limits)));
      }
    });
    worker.once('error', (error) => settle(() => reject(failed(error, limits))));
    worker.once('exit', (code) =>
      settle(() => reject(failed(new Error(`the worker exited with code ${code}`), limits))),
    );
  });
}

/**
 * Calls `exceeded` once the RSS has grown past the allowance since now: the worker has loaded its parser, whose
 * code has its own headroom, as in the heap limit; the file's share is maxMemoryMb.
 */
function watchRss(limits: ExtractionLimits, running: () => number, exceeded: (grownMb: number) => void) {
  const baseline = process.memoryUsage.rss();
  return setInterval(() => {
    const grownMb = (process.memoryUsage.rss() - baseline) / 1024 / 1024;
    if (grownMb > RSS_FACTOR * limits.maxMemoryMb * running()) exceeded(grownMb);
  }, RSS_POLL_MS);
}

function startWorker(request: WorkerRequest): Worker {
  const { maxMemoryMb } = request.limits;
  const worker = new Worker(workerUrl(), {
    workerData: request,
    transferList: [request.bytes.buffer as ArrayBuffer],
    resourceLimits: {
      // Headroom for the parser's own code: running out of heap while V8 compiles a module is a fatal error of
      // the whole process, not ERR_WORKER_OUT_OF_MEMORY; the file's share is the configured maxMemoryMb.
      maxOldGenerationSizeMb: maxMemoryMb + CODE_HEADROOM_MB,
      maxYoungGenerationSizeMb: Math.min(64, Math.max(16, Math.round(maxMemoryMb / 8))),
    },
    // Parser chatter about a hostile file is not worth logging; it is drained and dropped.
    stdout: true,
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  return worker;
}

/**
 * Built code runs `worker.js` beside this file. Under Jest or tsx this file is TypeScript, and so is the
 * worker: Node 20 does not apply `--import tsx` from a Worker's execArgv (tsx registers its hooks on the main
 * thread only), so a small data: module registers tsx's hooks inside the worker, then imports `worker.ts`.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./worker.js', here);
  const source = [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `await import(${JSON.stringify(new URL('./worker.ts', here).href)});`,
  ].join('\n');
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

function timedOut(limits: ExtractionLimits): ExtractionError {
  return new ExtractionError(
    'EXTRACTION_TIMEOUT',
    `extracting the text took longer than ${limits.timeoutMs / 1000} s and was stopped; the file may be too complex — try splitting it into smaller files`,
    { timeoutMs: limits.timeoutMs },
  );
}

function isReady(message: unknown): boolean {
  return isObject(message) && message.kind === 'ready';
}

/** The worker's reply, checked: anything else on the channel is an error, never a crash. */
function replyOf(message: unknown): WorkerReply {
  if (!isObject(message) || message.kind !== 'reply' || !isObject(message.reply)) {
    throw new Error(`unexpected message from the extraction worker: ${describe(message)}`);
  }
  const reply = message.reply;
  if (reply.ok === true && isObject(reply.extracted)) return reply as unknown as WorkerReply;
  if (reply.ok === false && isObject(reply.error) && typeof reply.error.code === 'string') {
    return reply as unknown as WorkerReply;
  }
  throw new Error(`malformed reply from the extraction worker: ${describe(message)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function describe(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 200);
  } catch {
    return String(value).slice(0, 200);
  }
}

function fromWorker({ code, message, details }: WorkerFailure): ExtractionError {
  return new ExtractionError(code, message, details);
}

function rssExceeded(limits: ExtractionLimits, grownMb: number): ExtractionError {
  return memoryExceeded(limits, { reason: `RSS grew by ${Math.round(grownMb)} MB`, errorCode: 'RSS_LIMIT' });
}

function failed(error: Error, limits: ExtractionLimits): ExtractionError {
  const code = (error as NodeJS.ErrnoException).code;
  const details = { reason: `${error.name}: ${error.message}`, ...(code ? { errorCode: code } : {}) };
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return memoryExceeded(limits, details);
  return new ExtractionError(
    'EXTRACTION_FAILED',
    'the text could not be extracted from this file; try saving it again, or in another format',
    details,
  );
}
