import type { Snapshot } from '../../domain/document/document.js';

/** The document's headings, as the extractor found them (offsets not yet trusted). */
export type Sections = NonNullable<Snapshot['sections']>;
export type Pages = NonNullable<Snapshot['pages']>;

/** A range of the text that no chunk crosses: the text before the first heading, or one heading's section. */
export interface Segment {
  start: number;
  end: number;
  /** Heading path ("Methods > Dosing"); absent before the first heading. */
  path?: string;
  title?: string;
}

/** Characters a heading line may have besides its title ("## ", "2.3.1 ", a trailing colon…). */
const HEADING_MARKUP = 16;

/**
 * The text before the first heading, then one segment per heading up to the next heading of any level. A
 * segment that is only its heading line (a heading followed at once by another: "# Methods" then "## Dosing")
 * is merged into the next one: a chunk of a bare heading matches every query on its words and says nothing.
 * The merged chunk has the next segment's path, which keeps the heading when the next is a subsection.
 */
export function segments(text: string, sections: Sections): Segment[] {
  const result = headingSegments(text, sections);
  for (let i = result.length - 2; i >= 0; i--) {
    if (!isHeadingOnly(text, result[i]!)) continue;
    result[i + 1]!.start = result[i]!.start;
    result.splice(i, 1);
  }
  return result;
}

function isHeadingOnly(text: string, segment: Segment): boolean {
  if (segment.title === undefined) return false;
  const content = text.slice(segment.start, segment.end).trim();
  return !content.includes('\n') && content.length <= segment.title.trim().length + HEADING_MARKUP;
}

/**
 * Segments with their heading paths: a heading closes every open heading of its level or deeper. Offsets are
 * clamped into the text, since they come from an extractor, and empty segments are dropped.
 */
function headingSegments(text: string, sections: Sections): Segment[] {
  const clamp = (offset: number) => Math.min(Math.max(Math.trunc(offset) || 0, 0), text.length);
  const sorted = sections
    .map((s) => ({ level: s.level, title: s.title, startChar: clamp(s.startChar) }))
    .sort((a, b) => a.startChar - b.startChar);
  const result: Segment[] = [{ start: 0, end: sorted[0]?.startChar ?? text.length }];
  const stack: Array<{ level: number; title: string }> = [];
  sorted.forEach((section, k) => {
    while (stack.length > 0 && stack[stack.length - 1]!.level >= section.level) stack.pop();
    stack.push(section);
    result.push({
      start: section.startChar,
      end: sorted[k + 1]?.startChar ?? text.length,
      path: stack.map((s) => s.title).join(' > '),
      title: section.title,
    });
  });
  return result.filter((s) => s.end > s.start);
}

/** The page `offset` is on, by binary search over pages sorted by startChar; undefined before the first. */
export function pageAt(pages: Pages, offset: number): number | undefined {
  let lo = 0;
  let hi = pages.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pages[mid]!.startChar <= offset) {
      found = pages[mid]!.page;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
