import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { extractHtml } from './html.js';
import type { TextParts } from './text.js';

/**
 * A web page's article: Mozilla's Readability (Firefox's reader view) picks the main content out of the page,
 * leaving menus, sidebars, cookie banners and footers behind; html-to-text then turns it into text with its
 * headings as sections, as for any HTML. A page Readability finds no article in (a short page, a list of links)
 * is taken whole. linkedom is the DOM: jsdom, Readability's usual partner, needs Node 22.
 */
export function extractReadable(html: string): TextParts & { title?: string } {
  const { document } = parseHTML(html.replace(/\0/g, ''));
  // Readability changes the document it reads; this one is ours alone.
  const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
    charThreshold: 200,
  }).parse();
  if (!article?.content) return extractHtml(html);
  const parts = extractHtml(article.content);
  if (parts.text.trim() === '') return extractHtml(html);
  const title = article.title?.trim();
  return { ...parts, ...(title ? { title } : {}) };
}
