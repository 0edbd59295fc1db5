import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PDFParse } from 'pdf-parse';
import { ExtractionError, type ExtractedPage, type ExtractionLimits } from './extraction.js';
import { outlineSections, pdfInfoTitle, type PdfDocument } from './pdf-outline.js';
import { ocrPages, SCANNED_PAGE_CHARS } from './ocr.js';
import { cleanText, type TextParts } from './text.js';

// pdf.js reads the 14 standard fonts' metrics and the predefined (CJK) character maps from files; without them
// text set in fonts that are not embedded comes out badly spaced or not at all. The pdf.js is pdf-parse's own.
const resolveHere = createRequire(import.meta.url);
const PDFJS = dirname(createRequire(resolveHere.resolve('pdf-parse')).resolve('pdfjs-dist/package.json'));

/**
 * Loads pdf.js's parsing half (which it otherwise imports on the first document), so that a worker can
 * have its code loaded before its memory is watched: code is not the file's doing.
 */
export async function preloadPdfJs(): Promise<void> {
  await import(pathToFileURL(join(PDFJS, 'legacy', 'build', 'pdf.worker.mjs')).href);
}

/**
 * PDF → text page by page (pdf-parse 2 over pdf.js); pages are joined by a blank line. Sections come from the
 * outline (bookmarks) when it has one, the title from the Info dictionary.
 */
export async function extractPdf(bytes: Uint8Array, limits: ExtractionLimits): Promise<TextParts> {
  const parser = new PDFParse({
    data: bytes,
    // A PDF must not make pdf.js compile code (PostScript functions are interpreted instead).
    isEvalSupported: false,
    useSystemFonts: false,
    enableXfa: false,
    stopAtErrors: false,
    standardFontDataUrl: join(PDFJS, 'standard_fonts') + '/',
    cMapUrl: join(PDFJS, 'cmaps') + '/',
    cMapPacked: true,
  });
  try {
    // Page 1 first: it tells the page count, checked before the other pages are read.
    const first = await parser.getText({ partial: [1] });
    if (first.total > limits.maxPdfPages) {
      throw new ExtractionError(
        'TOO_MANY_PAGES',
        `the PDF has ${first.total} pages; the most accepted is ${limits.maxPdfPages}`,
        { pages: first.total, maxPdfPages: limits.maxPdfPages },
      );
    }
    const rest = first.total > 1 ? (await parser.getText({ first: 2, last: first.total })).pages : [];
    const { pages, ocr } = await withOcr(parser, [...first.pages, ...rest], limits);
    const parts = joinPages(pages, first.total, limits);
    return { ...parts, ...(await structureOf(parser, parts)), ...(ocr ? { ocr } : {}) };
  } catch (error) {
    throw asExtractionError(error);
  } finally {
    await parser.destroy();
  }
}

/**
 * The outline's sections and the Info title, from pdf-parse's loaded pdf.js document (its `load()` is private
 * in the typings, public in the code: it returns the document the text came from). Neither is worth refusing
 * a file whose text was read: a broken outline or Info dictionary gives none.
 */
async function structureOf(parser: PDFParse, parts: TextParts): Promise<Partial<TextParts>> {
  const doc = await (parser as unknown as { load(): Promise<PdfDocument> }).load();
  const [sections, title] = await Promise.all([
    outlineSections(doc, parts.text, parts.pages ?? []).catch(() => []),
    pdfInfoTitle(doc).catch(() => undefined),
  ]);
  return { sections, ...(title ? { title } : {}) };
}

type PageText = { num: number; text: string };

/**
 * Pages without a text layer (scans) read by OCR, within the OCR's page and time limits; the pages say which
 * came from OCR and which were left out.
 */
async function withOcr(
  parser: PDFParse,
  pages: PageText[],
  limits: ExtractionLimits,
): Promise<{ pages: PageText[]; ocr?: { pages: number[]; skippedPages: number[] } }> {
  const scanned = pages
    .filter((p) => p.text.replace(/\s/g, '').length < SCANNED_PAGE_CHARS)
    .map((p) => p.num);
  if (scanned.length === 0 || limits.ocrMaxPages === 0) return { pages };
  // Pages are not started after this; the worker gives the last one its time (worker-extractor.ts).
  const deadline = Date.now() + limits.ocrTimeoutMs;
  const { texts, skipped } = await ocrPages(parser, scanned, { maxPages: limits.ocrMaxPages, deadline });
  const read = [...texts].filter(([, text]) => text.trim() !== '').map(([page]) => page);
  return {
    pages: pages.map((p) => (read.includes(p.num) ? { num: p.num, text: texts.get(p.num)! } : p)),
    ocr: { pages: read, skippedPages: skipped },
  };
}

function joinPages(pages: PageText[], pageCount: number, limits: ExtractionLimits): TextParts {
  const ranges: ExtractedPage[] = [];
  let text = '';
  for (const { num, text: raw } of pages) {
    if (ranges.length > 0) text += '\n\n';
    const page = cleanText(raw).trim();
    ranges.push({ page: num, startChar: text.length, endChar: text.length + page.length });
    text += page;
  }
  if (text.trim() === '') {
    throw new ExtractionError(
      'NO_EXTRACTABLE_TEXT',
      pageCount === 0
        ? 'the PDF has no pages'
        : limits.ocrMaxPages === 0
          ? 'the PDF has no text layer (it is probably scanned images) and OCR is off (OCR_MAX_PAGES=0); upload a PDF with selectable text'
          : 'the PDF has no text layer, and OCR found no words in its pictures; upload a PDF with selectable text or a clearer scan',
      { pages: pageCount },
    );
  }
  return { text, sections: [], pages: ranges, pageCount };
}

function asExtractionError(error: unknown): unknown {
  if (error instanceof ExtractionError) return error;
  const name = error instanceof Error ? error.name : '';
  const reason = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') {
    return new ExtractionError(
      'ENCRYPTED_PDF',
      'the PDF is encrypted with a password; remove the password and upload it again',
    );
  }
  if (['InvalidPDFException', 'FormatError', 'UnknownErrorException'].includes(name)) {
    return new ExtractionError(
      'CORRUPT_FILE',
      'the PDF is damaged or incomplete and cannot be read; export or download it again and upload the new copy',
      { reason },
    );
  }
  return error;
}
