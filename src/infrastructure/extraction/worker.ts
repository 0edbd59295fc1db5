import { parentPort, workerData } from 'node:worker_threads';
import { boundBuffers } from './bounded-buffers.js';
import { detectContainer, type Container } from './detect.js';
import { extractInProcess } from './extract.js';
import {
  ExtractionError,
  memoryExceeded,
  type ExtractionCode,
  type Extracted,
  type ExtractionHint,
  type ExtractionLimits,
} from './extraction.js';

/**
 * The worker thread's entry: load the parser the file needs and say `ready` (the parent watches memory from
 * then on), extract, reply; the parent then terminates the thread. Errors travel as plain data (code,
 * message, details) because an Error's class does not survive postMessage.
 */
export interface WorkerRequest {
  bytes: Uint8Array;
  hint: ExtractionHint;
  limits: ExtractionLimits;
}

export interface WorkerFailure {
  code: ExtractionCode;
  message: string;
  details?: Record<string, unknown>;
}

export type WorkerReply = { ok: true; extracted: Extracted } | { ok: false; error: WorkerFailure };

/** First `ready` (code loaded), then the reply. */
export type WorkerMessage = { kind: 'ready' } | { kind: 'reply'; reply: WorkerReply };

/** One buffer may take at most this share of the extraction's memory (see bounded-buffers.ts). */
const BUFFER_SHARE = 0.25;

async function run({ bytes, hint, limits }: WorkerRequest): Promise<WorkerReply> {
  try {
    return { ok: true, extracted: await extractInProcess(bytes, hint, limits) };
  } catch (error) {
    if (error instanceof ExtractionError) return failed(error);
    // A parser bug or a file that breaks a library in a way we do not recognise: no internals in the message.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      ok: false,
      error: {
        code: 'EXTRACTION_FAILED',
        message: 'the text could not be extracted from this file; try saving it again, or in another format',
        details: { reason },
      },
    };
  }
}

/** Loads the parser the bytes call for; a file that fails detection is reported by `run`. */
async function preload(bytes: Uint8Array): Promise<void> {
  let container: Container;
  try {
    container = detectContainer(bytes);
  } catch {
    return;
  }
  if (container === 'pdf') await (await import('./pdf.js')).preloadPdfJs();
  else await import(container === 'zip' ? './docx.js' : './html.js');
}

/** The worker's answer, once: a refused buffer answers at once, whatever the parser then makes of the error. */
let answered = false;
function answer(reply: WorkerReply): void {
  if (answered) return;
  answered = true;
  parentPort?.postMessage({ kind: 'reply', reply } satisfies WorkerMessage);
}

function failed({ code, message, details }: ExtractionError): WorkerReply {
  return { ok: false, error: { code, message, details } };
}

function bufferRefused(limits: ExtractionLimits, requestedBytes: number): WorkerReply {
  return failed(
    memoryExceeded(limits, {
      reason: `a buffer of ${Math.ceil(requestedBytes / 1024 / 1024)} MB was refused`,
      errorCode: 'BUFFER_LIMIT',
    }),
  );
}

const request = workerData as WorkerRequest;
// Before any parser loads, so that what it captures at load time is bounded too.
boundBuffers(request.limits.maxMemoryMb * 1024 * 1024 * BUFFER_SHARE, (requested) =>
  answer(bufferRefused(request.limits, requested)),
);
await preload(request.bytes);
parentPort?.postMessage({ kind: 'ready' } satisfies WorkerMessage);
answer(await run(request));
