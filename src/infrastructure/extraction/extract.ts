import { classifyText, detectContainer, type Container } from './detect.js';
import {
  CONTENT_TYPES,
  DEFAULT_EXTRACTION_LIMITS,
  ExtractionError,
  checkSize,
  mb,
  type DetectedType,
  type Extracted,
  type ExtractionHint,
  type ExtractionLimits,
} from './extraction.js';
import { decodeUtf8, extractMarkdown, extractPlainText, storableText, type TextParts } from './text.js';

/**
 * The extraction itself, in the calling thread: no time or memory limit of its own, so the service runs it in a
 * worker (worker-extractor.ts). The PDF parser and the DOCX converter are loaded on first use, so a worker
 * that extracts a text file does not pay for pdf.js.
 *
 * A PDF's bytes are handed over to pdf.js, which detaches their buffer: pass a copy if you need them after.
 */
export async function extractInProcess(
  bytes: Uint8Array,
  hint: ExtractionHint = {},
  limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS,
): Promise<Extracted> {
  checkSize(bytes, limits);
  const container = detectContainer(bytes);
  checkTextSize(bytes, container, limits);
  if (container === 'pdf') {
    const { extractPdf } = await import('./pdf.js');
    return finish('pdf', await extractPdf(bytes, limits), limits);
  }
  if (container === 'zip') {
    const { extractDocx } = await import('./docx.js');
    return finish('docx', await extractDocx(bytes, limits), limits);
  }
  const source = decodeUtf8(bytes);
  const kind = classifyText(source, hint);
  if (kind === 'html' && hint.readable) {
    const { extractReadable } = await import('./readable.js');
    return finish('html', extractReadable(source), limits);
  }
  if (kind === 'html') {
    const { extractHtml } = await import('./html.js');
    return finish('html', extractHtml(source), limits);
  }
  return finish(kind, kind === 'markdown' ? extractMarkdown(source) : extractPlainText(source), limits);
}

/** UTF-8 takes at most this many bytes per UTF-16 code unit of the decoded text (3; 4 for a surrogate pair). */
const MAX_BYTES_PER_CHAR = 4;

/**
 * A text, Markdown or HTML file so large that its text cannot fit in a document is refused from its size, before
 * it is decoded (a 49 MB text file took the process near 1 GB on its way to TEXT_TOO_LARGE).
 */
export function checkTextSize(bytes: Uint8Array, container: Container, limits: ExtractionLimits): void {
  if (container !== 'text' || bytes.byteLength <= MAX_BYTES_PER_CHAR * limits.maxTextChars) return;
  throw new ExtractionError(
    'TEXT_TOO_LARGE',
    `the file is ${mb(bytes.byteLength)} of text; a document holds at most ${limits.maxTextChars.toLocaleString('en-US')} characters — split it into smaller files`,
    { size: bytes.byteLength, maxCharacters: limits.maxTextChars },
  );
}

/**
 * Plain text or Markdown up to this size is extracted in the calling thread: its extraction is a decode, a
 * normalisation and a line scan written to be linear (no backtracking regexes), a few milliseconds at this size,
 * while a worker costs about a tenth of a second to start. HTML, PDF and DOCX always go to a worker.
 */
export const IN_PROCESS_TEXT_BYTES = 256 * 1024;

/**
 * The extraction of a small text or Markdown file, or undefined when the bytes need a worker. `container` is what
 * detectContainer said of the bytes.
 */
export function extractSmallText(
  bytes: Uint8Array,
  container: Container,
  hint: ExtractionHint = {},
): Extracted | undefined {
  if (bytes.byteLength > IN_PROCESS_TEXT_BYTES || container !== 'text') return undefined;
  const source = decodeUtf8(bytes);
  const kind = classifyText(source, hint);
  if (kind === 'html') return undefined;
  return finish(kind, kind === 'markdown' ? extractMarkdown(source) : extractPlainText(source));
}

const NAMES: Record<DetectedType, string> = {
  pdf: 'PDF',
  docx: 'Word document',
  markdown: 'Markdown file',
  text: 'text file',
  html: 'HTML page',
};

function finish(
  type: DetectedType,
  parts: TextParts,
  limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS,
): Extracted {
  if (parts.text.length > limits.maxTextChars) {
    throw new ExtractionError(
      'TEXT_TOO_LARGE',
      `the ${NAMES[type]} holds ${parts.text.length.toLocaleString('en-US')} characters of text; a document holds at most ${limits.maxTextChars.toLocaleString('en-US')} — split it into smaller files`,
      { characters: parts.text.length, maxCharacters: limits.maxTextChars },
    );
  }
  if (parts.text.trim() === '') {
    throw new ExtractionError('NO_EXTRACTABLE_TEXT', `the ${NAMES[type]} contains no text`);
  }
  return {
    type,
    contentType: CONTENT_TYPES[type],
    text: storableText(parts.text),
    sections: parts.sections.map((s) => ({ ...s, title: storableText(s.title) })),
    ...(parts.pages ? { pages: parts.pages } : {}),
    ...(parts.pageCount !== undefined ? { pageCount: parts.pageCount } : {}),
    ...(parts.title ? { title: storableText(parts.title) } : {}),
    ...(parts.ocr ? { ocr: parts.ocr } : {}),
  };
}
