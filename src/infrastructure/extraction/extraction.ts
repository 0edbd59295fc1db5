import { AppError } from '../../domain/errors.js';
import { MAX_CONTENT_CHARS } from '../../domain/schemas.js';

/**
 * The text-extraction port: bytes in, plain text with its structure out. The adapter
 * (`WorkerTextExtractor`) runs the parsers in a worker thread, so a hostile file costs a worker, not the server.
 */
export type DetectedType = 'pdf' | 'docx' | 'markdown' | 'text' | 'html';

export interface ExtractionLimits {
  maxBytes: number;
  maxPdfPages: number;
  timeoutMs: number;
  maxMemoryMb: number;
  maxUncompressedBytes: number;
  /** PDF pages without a text layer read by OCR per file (0: no OCR). */
  ocrMaxPages: number;
  /** The OCR's own time, added to a PDF's extraction time; pages it has not reached by then are left out. */
  ocrTimeoutMs: number;
  /** The most text a file may give (domain/schemas.ts MAX_CONTENT_CHARS); checked in the worker, before a reply. */
  maxTextChars: number;
}

export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxBytes: 50 * 1024 * 1024,
  maxPdfPages: 2000,
  timeoutMs: 60_000,
  maxMemoryMb: 512,
  maxUncompressedBytes: 200 * 1024 * 1024,
  ocrMaxPages: 50,
  ocrTimeoutMs: 180_000,
  maxTextChars: MAX_CONTENT_CHARS,
};

/** A heading; `startChar` is an offset into `Extracted.text`. */
export interface ExtractedSection {
  level: number;
  title: string;
  startChar: number;
}

/** PDFs: page `page`'s text is `text.slice(startChar, endChar)`. */
export interface ExtractedPage {
  page: number;
  startChar: number;
  endChar: number;
}

export interface Extracted {
  type: DetectedType;
  contentType: string;
  text: string;
  sections: ExtractedSection[];
  pages?: ExtractedPage[];
  pageCount?: number;
  /** The title the file's own properties give (DOCX core properties, PDF Info), when it is not a placeholder. */
  title?: string;
  /** PDF pages whose text came from OCR, and image-only pages the OCR's limits left without text. */
  ocr?: { pages: number[]; skippedPages: number[] };
}

/** Only used to tell Markdown from plain text once the bytes say "text": a name never decides the type. */
export interface ExtractionHint {
  filename?: string;
  /** A web page fetched from a URL: its article only (Readability), not its menus and footers. */
  readable?: boolean;
}

export interface TextExtractor {
  extract(bytes: Uint8Array, hint?: ExtractionHint): Promise<Extracted>;
}

export const TEXT_EXTRACTOR = Symbol('TEXT_EXTRACTOR');

export const EXTRACTION_CODES = [
  'UNSUPPORTED_FILE_TYPE',
  'FILE_TOO_LARGE',
  'TEXT_TOO_LARGE',
  'EMPTY_FILE',
  'NO_EXTRACTABLE_TEXT',
  'ENCRYPTED_PDF',
  'CORRUPT_FILE',
  'UNSAFE_ARCHIVE',
  'INVALID_ENCODING',
  'TOO_MANY_PAGES',
  'EXTRACTION_TIMEOUT',
  'EXTRACTION_FAILED',
] as const;

export type ExtractionCode = (typeof EXTRACTION_CODES)[number];

const STATUS: Partial<Record<ExtractionCode, number>> = {
  UNSUPPORTED_FILE_TYPE: 415,
  FILE_TOO_LARGE: 413,
  TEXT_TOO_LARGE: 413,
  TOO_MANY_PAGES: 413,
};

export const extractionStatus = (code: ExtractionCode): number => STATUS[code] ?? 422;

/** A file the service cannot turn into text; the message is written for the person who uploaded it. */
export class ExtractionError extends AppError {
  readonly status: number;

  constructor(
    readonly code: ExtractionCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
    this.status = extractionStatus(code);
  }
}

export const CONTENT_TYPES: Record<DetectedType, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  markdown: 'text/markdown; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/** The first check, made before any parsing (and before a worker is started). */
/** The extraction needed more than `maxMemoryMb` (heap, buffer or process growth; `details.errorCode` says which). */
export function memoryExceeded(limits: ExtractionLimits, details: Record<string, unknown>): ExtractionError {
  return new ExtractionError(
    'EXTRACTION_FAILED',
    `extracting the text needed more memory than allowed (${limits.maxMemoryMb} MB) and was stopped; try splitting the file into smaller files`,
    details,
  );
}

export function checkSize(bytes: Uint8Array, limits: ExtractionLimits): void {
  if (bytes.byteLength > limits.maxBytes) {
    throw new ExtractionError(
      'FILE_TOO_LARGE',
      `the file is ${mb(bytes.byteLength)}; the largest file accepted is ${mb(limits.maxBytes)}`,
      { size: bytes.byteLength, maxBytes: limits.maxBytes },
    );
  }
}

export function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${bytes} bytes`;
}
