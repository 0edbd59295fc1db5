import { basename } from 'node:path';
import type { DocumentMetadata, Snapshot } from '../../domain/document/document.js';
import { sha256 } from '../../infrastructure/documents/file-store.js';
import type { Extracted, ExtractionHint, TextExtractor } from '../../infrastructure/extraction/extraction.js';
import { firstLineAt } from '../../infrastructure/extraction/title.js';
import { ValidationFailedError } from '../../infrastructure/http/validation.js';

/** Markdown headings become sections, as extraction does for files. */
export function markdownSections(text: string): Snapshot['sections'] {
  const sections: NonNullable<Snapshot['sections']> = [];
  const heading = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/gm;
  for (let m = heading.exec(text); m; m = heading.exec(text))
    sections.push({ level: m[1]!.length, title: m[2]!, startChar: m.index });
  return sections;
}

/** Newlines as \n, no BOM: the same text whichever way it came in. */
export function normaliseText(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .normalize('NFC');
}

/** A client's file name is a label, never a path. */
export function safeFilename(name: string | undefined): string | undefined {
  if (name === undefined || name === '') return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[/\\]|\.\.|[\u0000-\u001f\u007f]/.test(name) || name.length > 255) {
    throw new ValidationFailedError(
      'the file name must be a plain name of at most 255 characters, without path separators',
      {
        errors: [{ path: 'file.filename', message: 'not a plain file name' }],
      },
    );
  }
  return basename(name);
}

/**
 * A file's title: the one given with the upload; else the file's own (DOCX core properties, PDF Info); else its
 * text's first line (the heading's title when a heading opens the text: without its markup); else the file's
 * name. A heading further down (an "Introduction" after a title line) is not the document's title.
 */
export function titleOf(extracted: Extracted, metadata: DocumentMetadata, filename?: string): string {
  const fromName = filename?.replace(/\.[A-Za-z0-9]{1,8}$/, '').trim() || undefined;
  return metadata.title ?? extracted.title ?? leadingLine(extracted) ?? fromName ?? 'Untitled';
}

function leadingLine({ text, sections }: Pick<Extracted, 'text' | 'sections'>): string | undefined {
  const first = firstLineAt(text);
  if (!first) return undefined;
  const end = text.indexOf('\n', first.start);
  const heading = sections.find(
    (s) => s.startChar >= first.start && s.startChar <= (end === -1 ? text.length : end),
  );
  return heading?.title || first.line;
}

/**
 * The metadata says which pages of this file came from OCR (`ocrPages`) and which scanned pages the OCR's limits
 * left without text (`ocrSkippedPages`); a new file without OCR drops what an earlier file's said.
 */
function withOcr(metadata: DocumentMetadata, ocr: Extracted['ocr']): DocumentMetadata {
  const { ocrPages: _pages, ocrSkippedPages: _skipped, ...rest } = metadata;
  if (!ocr) return rest as DocumentMetadata;
  return {
    ...rest,
    ocrPages: ocr.pages,
    ...(ocr.skippedPages.length ? { ocrSkippedPages: ocr.skippedPages } : {}),
  };
}

export function snapshotFromFile(
  extracted: Extracted,
  metadata: DocumentMetadata,
  file: Snapshot['file'] & object,
): Snapshot {
  const title = titleOf(extracted, metadata, file.filename);
  return {
    title: title.slice(0, 500),
    content: extracted.text,
    format: extracted.type,
    metadata: withOcr(metadata, extracted.ocr),
    file,
    ...(extracted.pages ? { pages: extracted.pages } : {}),
    ...(extracted.sections.length > 0 ? { sections: extracted.sections } : {}),
  };
}

/**
 * A file's bytes as a version: extracted (in the extraction worker), titled, and referenced by its SHA-256,
 * which is also its source for the duplicate rule. Uploads, folder imports and URL sources share it.
 */
export async function snapshotOfFile(
  extractor: TextExtractor,
  file: { bytes: Uint8Array; filename?: string },
  metadata: DocumentMetadata,
  hint: Omit<ExtractionHint, 'filename'> = {},
): Promise<{ snapshot: Snapshot; sha256: string }> {
  const { bytes, filename } = file;
  const extracted = await extractor.extract(bytes, { ...hint, filename });
  const hash = sha256(bytes);
  const ref = { sha256: hash, contentType: extracted.contentType, size: bytes.byteLength };
  const snapshot = snapshotFromFile(extracted, metadata, { ...ref, ...(filename ? { filename } : {}) });
  return { snapshot, sha256: hash };
}
