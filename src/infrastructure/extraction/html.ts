import { compile, type FormatCallback } from 'html-to-text';
import { cleanText, sectionTitle, type TextParts } from './text.js';
import type { ExtractedSection } from './extraction.js';

/**
 * HTML → plain text with html-to-text; also used for the HTML that mammoth makes of a DOCX. Headings are
 * written on their own lines between NUL markers, whose positions become the sections' offsets once the markers
 * are taken out. NUL cannot come from the document: it is removed from the source first, and `&#0;` decodes to
 * U+FFFD.
 */
const START = (level: number): string => `\0H${level}\0`;
const END = '\0E\0';
const MARKERS = /\0(H[1-6]|E)\0/;

const markedHeading: FormatCallback = (elem, walk, builder, options) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(START(Number(options.level)));
  walk(elem.children, builder);
  builder.addLiteral(END);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

// A table row per line, its cells separated by tabs, so that cells do not run together. Paragraphs inside a
// cell (mammoth writes every cell so) run on, one space apart, to keep the row on one line.
const tableCell: FormatCallback = (elem, walk, builder) => {
  for (const child of elem.children ?? []) {
    if (child.type === 'tag' && child.name === 'p') {
      walk(child.children ?? [], builder);
      builder.addInline(' ');
    } else {
      walk([child], builder);
    }
  }
  builder.addLiteral('\t');
};

const HEADINGS = [1, 2, 3, 4, 5, 6].map((level) => ({
  selector: `h${level}`,
  format: 'markedHeading',
  options: { level },
}));

const SKIPPED = ['img', 'script', 'style', 'noscript', 'template', 'svg', 'head', 'object', 'iframe'].map(
  (selector) => ({ selector, format: 'skip' }),
);

const convert = compile({
  wordwrap: false,
  // The default (16 MiB) silently truncates; the worker's time and memory limits bound the work instead.
  // Depth is bounded because the walk is recursive: deeper nodes are dropped, not a stack overflow.
  limits: { maxInputLength: Number.MAX_SAFE_INTEGER, maxDepth: 512, ellipsis: '' },
  formatters: { markedHeading, tableCell },
  selectors: [
    ...HEADINGS,
    ...SKIPPED,
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'tableCell' },
    { selector: 'th', format: 'tableCell' },
  ],
});

export function extractHtml(html: string): TextParts {
  return withSections(convert(html.replace(/\0/g, '')));
}

/** No spaces before a cell's tab, no whitespace at the end of a line; without regexes that could backtrack. */
function trimCells(line: string): string {
  if (!line.includes('\t')) return line.trimEnd();
  return line
    .split('\t')
    .map((cell) => cell.trimEnd())
    .join('\t')
    .trimEnd();
}

function withSections(marked: string): TextParts {
  const tidy = marked
    .replace(/\0H[1-6]\0\s*\0E\0/g, '') // a heading with no text is not a section
    .split('\n')
    .map(trimCells)
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const parts = tidy.split(MARKERS);
  const sections: ExtractedSection[] = [];
  const open: ExtractedSection[] = [];
  let text = '';
  // split() with a capture group alternates: text, marker, text, marker, …
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      text += cleanText(part);
    } else if (part === 'E') {
      const section = open.pop();
      if (section) section.title = sectionTitle(text.slice(section.startChar));
      if (section?.title) sections.push(section);
    } else {
      open.push({ level: Number(part.slice(1)), title: '', startChar: text.length });
    }
  });
  return { text, sections: sections.sort((a, b) => a.startChar - b.startChar) };
}
