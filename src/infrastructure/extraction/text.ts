import { ExtractionError, type ExtractedSection } from './extraction.js';

/** What a format module hands back; extract.ts adds the type and content type. */
export interface TextParts {
  text: string;
  sections: ExtractedSection[];
  pages?: Array<{ page: number; startChar: number; endChar: number }>;
  pageCount?: number;
  /** See Extracted.title. */
  title?: string;
  /** See Extracted.ocr. */
  ocr?: { pages: number[]; skippedPages: number[] };
}

// fatal: a wrong byte is refused rather than silently turned into U+FFFD, which would corrupt the text unseen.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ExtractionError(
      'INVALID_ENCODING',
      'the file is not valid UTF-8 text (it may use a legacy encoding such as Windows-1252); save it as UTF-8 and upload it again',
    );
  }
}

/**
 * The text every format ends with: no BOM, newlines as \n, no NUL (PostgreSQL text and jsonb cannot hold it),
 * NFC. Applied before any offset is computed, so the offsets stay true.
 */
export function cleanText(text: string): string {
  return storableText(
    text
      .replace(/^\uFEFF/, '')
      .replace(/\0/g, '')
      .replace(/\r\n?/g, '\n'),
  ).normalize('NFC');
}

/**
 * Text PostgreSQL can store, of the same length (offsets stay true): an unpaired UTF-16 surrogate (a PDF's broken
 * character map yields them) becomes U+FFFD, and a NUL a space. Every extraction's strings pass through it last.
 */
export function storableText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\0') ? wellFormed.replace(/\0/g, ' ') : wellFormed;
}

export function extractPlainText(text: string): TextParts {
  return { text: cleanText(text), sections: [] };
}

/** Markdown is kept as written; its ATX headings (outside fenced code) become sections. */
export function extractMarkdown(source: string): TextParts {
  const text = cleanText(source);
  return { text, sections: markdownSections(text) };
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX = /^ {0,3}(#{1,6})[ \t]+(.*)$/;

export function markdownSections(text: string): ExtractedSection[] {
  const sections: ExtractedSection[] = [];
  let fence: string | undefined;
  let offset = 0;
  for (const line of text.split('\n')) {
    const marker = FENCE.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
    } else if (fence !== undefined) {
      // A fence closes with the same character, at least as long, and nothing else on the line.
      if (
        marker !== undefined &&
        marker[0] === fence[0] &&
        marker.length >= fence.length &&
        line.trim() === marker
      ) {
        fence = undefined;
      }
    } else {
      const heading = ATX.exec(line);
      const title = heading ? headingTitle(heading[2]!) : '';
      if (heading && title) sections.push({ level: heading[1]!.length, title, startChar: offset });
    }
    offset += line.length + 1;
  }
  return sections;
}

/**
 * "Title ##" → "Title": a closing run of # counts when whitespace precedes it. Done by hand because the
 * obvious regex backtracks quadratically on long runs of spaces.
 */
function headingTitle(raw: string): string {
  const title = raw.trimEnd();
  let end = title.length;
  while (end > 0 && title[end - 1] === '#') end--;
  if (end === title.length || (end > 0 && !/[ \t]/.test(title[end - 1]!))) return sectionTitle(title);
  return sectionTitle(title.slice(0, end));
}

const MAX_TITLE = 500;

/** A heading as a one-line title: whitespace collapsed, at most 500 characters. */
export function sectionTitle(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim().slice(0, MAX_TITLE);
}
