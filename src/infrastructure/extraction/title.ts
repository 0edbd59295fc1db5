import { sectionTitle } from './text.js';

/**
 * A document-property title (DOCX core properties, a PDF's Info dictionary) as a title, or undefined when it is
 * junk: tools fill these fields with placeholders ("Untitled", "Document1", "Microsoft Word - report.doc") or
 * the file's name, which say less than the text's first line.
 */
export function propertyTitle(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const title = sectionTitle(raw.replace(/^Microsoft (Word|PowerPoint|Excel) - /i, ''));
  if (!/[\p{L}\p{N}]/u.test(title) || title.length < 2) return undefined;
  if (PLACEHOLDER.test(title) || FILE_NAME.test(title) || IDENTIFIER.test(title)) return undefined;
  return title;
}

const PLACEHOLDER =
  /^(untitled( document)?|no title|title|unknown|none|null|n\/a|(new )?document ?\d*|doc\d*|presentation ?\d*|slide ?\d*|page ?\d*|draft|template)$/i;

/** One "word" of letters, digits and separators with a digit in it: a job or file id ("sag-39-3-4-0902-21:sag-0"). */
const IDENTIFIER = /^(?=\S*\d)(?=\S*[-_:./])\S+$/;

/** A name with a document's extension, or a path. */
const FILE_NAME =
  /\.(pdf|docx?|dotx?|rtf|odt|txt|md|html?|tex|dvi|ps|indd|qxd|pages|pptx?|xlsx?)$|^[a-z]:\\|^\//i;

/**
 * The first line of the text with a letter that is not a placeholder (a page number, a "DRAFT" watermark):
 * whitespace collapsed, cut at a word within `max`.
 */
export function firstLine(text: string, max = 200): string | undefined {
  return firstLineAt(text, max)?.line;
}

/** firstLine and where its line starts in `text`. */
export function firstLineAt(text: string, max = 200): { line: string; start: number } | undefined {
  let start = 0;
  for (const raw of text.split('\n', 1000)) {
    const at = start;
    start += raw.length + 1;
    const line = sectionTitle(raw);
    if (!/\p{L}/u.test(line) || PLACEHOLDER.test(line)) continue;
    if (line.length <= max) return { line, start: at };
    const cut = line.slice(0, max);
    const space = cut.lastIndexOf(' ');
    return { line: `${space > max / 2 ? cut.slice(0, space) : cut}…`, start: at };
  }
  return undefined;
}
