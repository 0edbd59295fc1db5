import type { ExtractedPage, ExtractedSection } from './extraction.js';
import { sectionTitle } from './text.js';
import { propertyTitle } from './title.js';

/** The part of pdf.js's document that the outline and the Info title need. */
export interface PdfDocument {
  getOutline(): Promise<OutlineItem[] | null>;
  getDestination(id: string): Promise<unknown[] | null>;
  getPageIndex(ref: unknown): Promise<number>;
  getMetadata(): Promise<{ info?: unknown }>;
}

interface OutlineItem {
  title: string;
  dest: string | unknown[] | null;
  items: OutlineItem[];
}

/** A hostile outline can be huge or deep: past these, the rest of it is ignored. */
const MAX_ENTRIES = 2_000;
const MAX_DEPTH = 8;

/** The Info dictionary's /Title, when it is a real title. */
export async function pdfInfoTitle(doc: PdfDocument): Promise<string | undefined> {
  const { info } = await doc.getMetadata();
  return propertyTitle((info as { Title?: unknown } | undefined)?.Title);
}

/**
 * Sections from the outline (bookmarks), level = depth: each at the line its title opens on the page its
 * destination names (matched word by word, any case and spacing), else at the start of that page. Entries
 * without a page here (an external link, a broken destination) are skipped.
 */
export async function outlineSections(
  doc: PdfDocument,
  text: string,
  pages: ExtractedPage[],
): Promise<ExtractedSection[]> {
  const sections: ExtractedSection[] = [];
  const walk = async (items: OutlineItem[], level: number): Promise<void> => {
    for (const item of items) {
      if (sections.length >= MAX_ENTRIES) return;
      const title = sectionTitle(item.title ?? '');
      const page = await pageOf(doc, item.dest);
      const range = page === undefined ? undefined : pages.find((p) => p.page === page + 1);
      if (title && range) sections.push({ level, title, startChar: placeOf(text, range, title) });
      if (level < MAX_DEPTH && item.items?.length) await walk(item.items, level + 1);
    }
  };
  await walk((await doc.getOutline()) ?? [], 1);
  return sections.sort((a, b) => a.startChar - b.startChar);
}

/** The 0-based page index of a destination: named, or explicit ([page ref or index, /XYZ …]). */
async function pageOf(doc: PdfDocument, dest: OutlineItem['dest']): Promise<number | undefined> {
  try {
    const explicit = typeof dest === 'string' ? await doc.getDestination(dest) : dest;
    const target = explicit?.[0];
    if (typeof target === 'number') return target;
    if (target && typeof target === 'object') return await doc.getPageIndex(target);
  } catch {
    // A destination that does not resolve points nowhere: the entry is skipped.
  }
  return undefined;
}

/**
 * Where a line of the page's text starts with `title`, after a number or none ("1.2 Dosing", "IV. Results"),
 * else the page's start. Only at a line's start: a short title ("Software") matched inside a sentence would
 * cut a section in the middle of its text.
 */
function placeOf(text: string, page: ExtractedPage, title: string): number {
  const words = title.split(' ').map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const line = new RegExp(`^[^\\S\\n]*${NUMBERING}${words.join('\\s+')}`, 'imu');
  return page.startChar + (line.exec(text.slice(page.startChar, page.endChar))?.index ?? 0);
}

/** A section number before a heading's title: digits, roman numerals or a letter, with dots or a bracket. */
const NUMBERING = '(?:(?:[\\p{N}]+|[IVXLC]+|[A-Z])(?:[.][\\p{N}]+)*[.):]?[^\\S\\n]+)?';
