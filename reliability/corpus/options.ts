/**
 * The options of `reliability/corpus-mutations.ts` (see its header), read from the command line once, and the limits
 * derived from them.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is in reliability/corpus/). */
export const repo = resolve(here, '../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
export const corpusDir = resolve(repo, arg('corpus', '../shared/corpus'));
export const count = Number(arg('count', '1000'));
export const seed = Number(arg('seed', '17'));
export const concurrency = Number(arg('concurrency', '3'));
export const ocr = process.argv.includes('--ocr');
/** Only these mutant indexes (to replay one seen failing). */
export const only = process.argv.includes('--only') ? arg('only', '').split(',').map(Number) : undefined;
/** Stop starting uploads after this long (the runner's bound is 150 min), and report what was done. */
export const maxMinutes = Number(arg('max-minutes', '140'));
export const outDir = process.argv.includes('--out') ? resolve(arg('out', '')) : undefined;

// The service's limits (its defaults, src/infrastructure/config/config.ts): the hang bound derives from them.
const EXTRACTION_TIMEOUT_MS = 60_000;
const OCR_TIMEOUT_MS = 180_000;
const OCR_LAST_PAGE_MS = 30_000;
/** The upload itself and the write, on a busy 2-core machine. */
const MARGIN_MS = 30_000;
/**
 * The embedded service extracts one upload at a time (INGEST_CONCURRENCY 1) and queues the others unread, so an
 * upload may wait for every other one in flight: a hang is an answer later than all of them at their limit.
 */
export const HANG_MS =
  concurrency * (EXTRACTION_TIMEOUT_MS + (ocr ? OCR_TIMEOUT_MS + OCR_LAST_PAGE_MS : 0)) + MARGIN_MS;
