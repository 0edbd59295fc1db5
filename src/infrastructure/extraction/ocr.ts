import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { PDFParse } from 'pdf-parse';
import type { Worker as Tesseract } from 'tesseract.js';

/** A page with fewer letters than this in its text layer is taken for a scan (a page number is not text). */
export const SCANNED_PAGE_CHARS = 16;
/** Pages are rendered this wide for OCR: about 200 dpi for a Letter or A4 page, Tesseract's sweet spot. */
const RENDER_WIDTH = 1700;

// English language data from npm (@tesseract.js-data/eng), read from disk: nothing is downloaded at run time.
const resolve = createRequire(import.meta.url);
const LANG_PATH = join(dirname(resolve.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');

export interface OcrResult {
  /** Page number → text read from its picture. */
  texts: Map<number, string>;
  /** Image-only pages left without text by the page or time limit. */
  skipped: number[];
}

/**
 * Reads pages without a text layer: each page rendered by pdf.js (@napi-rs/canvas, pdf-parse's renderer) and
 * read by Tesseract (tesseract.js, WebAssembly, in a thread of its own), one page at a time. At most `maxPages`
 * pages, none started after `deadline`; this runs inside the extraction worker, whose memory limits still hold
 * and whose time limit becomes the OCR's (plus one page) when it says so.
 */
export async function ocrPages(
  parser: PDFParse,
  pages: readonly number[],
  limits: { maxPages: number; deadline: number },
): Promise<OcrResult> {
  const result: OcrResult = { texts: new Map(), skipped: [] };
  // In the extraction worker, tell the service that OCR begins: the worker's time limit becomes the OCR's.
  parentPort?.postMessage({ kind: 'ocr' });
  let tesseract: Tesseract | undefined;
  try {
    for (const [i, page] of pages.entries()) {
      if (i >= limits.maxPages || Date.now() >= limits.deadline) {
        result.skipped.push(page);
        continue;
      }
      const shot = await parser.getScreenshot({
        partial: [page],
        desiredWidth: RENDER_WIDTH,
        imageBuffer: true,
        imageDataUrl: false,
      });
      const image = shot.pages[0]?.data;
      if (!image) continue;
      tesseract ??= await startTesseract();
      const { data } = await tesseract.recognize(Buffer.from(image));
      if (isReading(data)) result.texts.set(page, data.text);
    }
  } finally {
    await tesseract?.terminate();
  }
  return result;
}

/**
 * Tesseract reads a letter or two into any picture (a photo, a grey square): a page's reading counts only with a
 * few letters at a fair mean confidence.
 */
const isReading = (data: { text: string; confidence: number }) =>
  (data.text.match(/\p{L}/gu)?.length ?? 0) >= 4 && data.confidence >= 50;

async function startTesseract(): Promise<Tesseract> {
  const { createWorker, OEM } = await import('tesseract.js');
  return createWorker('eng', OEM.LSTM_ONLY, { langPath: LANG_PATH, cacheMethod: 'none', gzip: true });
}
