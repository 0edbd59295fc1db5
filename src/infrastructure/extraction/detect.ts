import { ExtractionError, type ExtractionHint } from './extraction.js';

/**
 * The file type from the bytes, never from the name: a client's name and content type are claims. The
 * container is decided here; a ZIP is only a DOCX once its directory says so (docx.ts), and text is told apart
 * (HTML, Markdown, plain) after it has been decoded.
 */
export type Container = 'pdf' | 'zip' | 'text';

const SAMPLE = 8 * 1024;
// PDF readers accept junk before the header (mail gateways, PostScript wrappers), so we do too.
const PDF_HEADER_WINDOW = 1024;

const BINARY_MAGIC: Array<{ name: string; magic: number[] }> = [
  { name: 'a PNG image', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { name: 'a JPEG image', magic: [0xff, 0xd8, 0xff] },
  { name: 'a GIF image', magic: [0x47, 0x49, 0x46, 0x38, 0x37, 0x61] },
  { name: 'a GIF image', magic: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61] },
  { name: 'a program (ELF)', magic: [0x7f, 0x45, 0x4c, 0x46] },
  { name: 'a gzip archive', magic: [0x1f, 0x8b] },
  // OLE compound files: legacy .doc/.xls/.ppt, and also password-protected .docx (encrypted OOXML is wrapped).
  {
    name: 'a legacy Office file (.doc, .xls, .ppt) or a password-protected Office file',
    magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  },
  { name: 'a ZIP archive with no files', magic: [0x50, 0x4b, 0x05, 0x06] },
  { name: 'a 7-Zip archive', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'a RAR archive', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
];

export function detectContainer(bytes: Uint8Array): Container {
  if (isBlank(bytes)) {
    throw new ExtractionError('EMPTY_FILE', 'the file is empty; upload a file that contains text');
  }
  if (findPdfHeader(bytes) >= 0) return 'pdf';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff])) {
    throw new ExtractionError(
      'INVALID_ENCODING',
      'the file is UTF-16 text; save it as UTF-8 and upload it again',
    );
  }
  const binary = binaryKind(bytes);
  if (binary) throw unsupported(binary);
  return 'text';
}

export function unsupported(what: string): ExtractionError {
  return new ExtractionError(
    'UNSUPPORTED_FILE_TYPE',
    `the file is ${what}, which is not supported; upload a PDF, DOCX, Markdown, HTML or plain text file`,
    { detected: what },
  );
}

/**
 * Offset of the `%PDF-` header, or -1. After leading junk it only counts when the file also ends like a PDF,
 * so that a text file quoting "%PDF-1.7" near its top stays text.
 */
export function findPdfHeader(bytes: Uint8Array): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = buffer.subarray(0, PDF_HEADER_WINDOW + 5).indexOf('%PDF-');
  if (at <= 0) return at;
  const tail = buffer.subarray(Math.max(0, buffer.byteLength - 2048));
  return tail.includes('%%EOF') || tail.includes('startxref') ? at : -1;
}

/** Decoded text (no BOM) → which kind of text it is. */
export function classifyText(text: string, hint: ExtractionHint = {}): 'html' | 'markdown' | 'text' {
  if (looksLikeHtml(text)) return 'html';
  if (/\.(md|markdown)$/i.test(hint.filename ?? '')) return 'markdown';
  return /^ {0,3}#{1,6}[ \t]+\S/m.test(text) ? 'markdown' : 'text';
}

function looksLikeHtml(text: string): boolean {
  // Skip what may precede the root element: whitespace, an XML declaration, comments.
  const head = text
    .slice(0, SAMPLE)
    .replace(/^(?:\s+|<\?xml[^>]*>|<!--[\s\S]*?-->)*/, '')
    .toLowerCase();
  return /^<(?:!doctype\s+html|html|head|body)[\s>]/.test(head);
}

function isBlank(bytes: Uint8Array): boolean {
  const start = startsWith(bytes, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  for (let i = start; i < bytes.byteLength; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && (b < 0x09 || b > 0x0d)) return false;
  }
  return true;
}

function binaryKind(bytes: Uint8Array): string | undefined {
  const known = BINARY_MAGIC.find(({ magic }) => startsWith(bytes, magic));
  if (known) return known.name;
  const sample = bytes.subarray(0, SAMPLE);
  // "MZ" alone starts ordinary words too; a real DOS/Windows header is full of NULs.
  if (startsWith(bytes, [0x4d, 0x5a]) && sample.includes(0)) return 'a Windows program';
  return looksBinary(sample) ? 'a binary file' : undefined;
}

/**
 * Binary, not text: a NUL in the first 8 KB (what git and grep go by), or more than 10% control characters
 * other than tab, newlines, form feed and escape. Text in a legacy 8-bit encoding passes, and is then refused as
 * INVALID_ENCODING with a message that says what to do.
 */
function looksBinary(sample: Uint8Array): boolean {
  if (sample.includes(0)) return true;
  let control = 0;
  for (const b of sample) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) control++;
  }
  return control > sample.byteLength / 10;
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.byteLength >= magic.length && magic.every((b, i) => bytes[i] === b);
}
