import { titleOf } from '../../src/commands/documents/snapshot.js';
import type { DocumentMetadata } from '../../src/domain/document/document.js';
import { coreTitle } from '../../src/infrastructure/extraction/docx.js';
import { extractInProcess } from '../../src/infrastructure/extraction/extract.js';
import type { Extracted } from '../../src/infrastructure/extraction/extraction.js';
import { firstLine, propertyTitle } from '../../src/infrastructure/extraction/title.js';
import { WorkerTextExtractor } from '../../src/infrastructure/extraction/worker-extractor.js';
import { textPdf } from '../fixtures/extraction/pdf.js';
import { deflated, docxWith, documentXml } from '../fixtures/extraction/zip.js';

const metadata: DocumentMetadata = { documentType: 'guide', tags: [], accessTier: 'free' };

const coreXml = (title: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
  xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${title}</dc:title><dc:creator>Coach</dc:creator></cp:coreProperties>`;

function docxTitled(title: string | undefined, blocks = [{ text: 'Warm up first.' }]) {
  const main = { name: 'word/document.xml', deflated: deflated(Buffer.from(documentXml(blocks))) };
  const extra = title === undefined ? [] : [{ name: 'docProps/core.xml', data: Buffer.from(coreXml(title)) }];
  return docxWith(main, extra);
}

const extracted = (over: Partial<Extracted>): Extracted => ({
  type: 'text',
  contentType: 'text/plain',
  text: '',
  sections: [],
  ...over,
});

describe('titles from the file', () => {
  it("takes a DOCX's dc:title from its core properties, entities decoded, across the worker", async () => {
    const result = await new WorkerTextExtractor().extract(
      docxTitled('Squats &amp; deadlifts &#8211; a plan'),
    );
    expect(result.title).toBe('Squats & deadlifts – a plan');
    expect(result.text).toBe('Warm up first.');
  });

  it('gives a DOCX without core properties, or with an empty or placeholder title, no title', async () => {
    expect((await extractInProcess(docxTitled(undefined))).title).toBeUndefined();
    expect((await extractInProcess(docxTitled('  '))).title).toBeUndefined();
    expect((await extractInProcess(docxTitled('Document1'))).title).toBeUndefined();
    expect(coreTitle('<cp:coreProperties><dc:title/></cp:coreProperties>')).toBeUndefined();
  });

  it("takes a PDF's Info /Title, and none when it is a file name", async () => {
    const pdf = (title: string) => textPdf([['Body text']], undefined, { title });
    expect((await extractInProcess(pdf('Protein timing (a review)'))).title).toBe(
      'Protein timing (a review)',
    );
    expect((await extractInProcess(pdf('Microsoft Word - plan_v3.docx'))).title).toBeUndefined();
    expect((await extractInProcess(textPdf([['Body text']]))).title).toBeUndefined();
  });

  it('tells junk document-property titles from real ones', () => {
    for (const junk of [
      '',
      '   ',
      'Untitled',
      'untitled document',
      'Document1',
      '---',
      'C:\\x\\report',
      'a.pdf',
      'sag-39-3-4-0902-21:sag-0',
      7,
    ])
      expect(propertyTitle(junk)).toBeUndefined();
    expect(propertyTitle('  Sleep   and\nrecovery ')).toBe('Sleep and recovery');
    expect(propertyTitle('Microsoft Word - Annual review')).toBe('Annual review');
  });
});

describe('sections from a PDF outline', () => {
  it('places each bookmark at the line its title opens (after a number) on its page, else at the page start', async () => {
    const pages = [
      ['Training manual', 'Foreword', 'Read this first'],
      ['Some text first', 'Chapter 1: Strength', 'Squat twice a week'],
      ['Warm-up first', '2.1 Deadlift on Fridays'],
    ];
    const outline = [
      { title: 'Foreword', page: 1 },
      {
        title: 'Chapter 1:   strength',
        page: 2,
        children: [
          { title: 'Deadlifts (a title not on the page)', page: 3 },
          { title: 'Deadlift on Fridays', page: 3 },
          { title: 'Fridays', page: 3 },
        ],
      },
    ];
    const result = await extractInProcess(textPdf(pages, undefined, { outline }));
    const at = (s: { startChar: number }) => result.text.slice(s.startChar, s.startChar + 19);
    expect(result.sections.map((s) => [s.level, s.title, at(s)])).toEqual([
      [1, 'Foreword', 'Foreword\nRead this '],
      [1, 'Chapter 1: strength', 'Chapter 1: Strength'],
      [2, 'Deadlifts (a title not on the page)', 'Warm-up first\n2.1 D'],
      [2, 'Fridays', 'Warm-up first\n2.1 D'],
      [2, 'Deadlift on Fridays', '2.1 Deadlift on Fri'],
    ]);
    // The page start is the fallback, also for a title found only inside a line ("… on Fridays").
    expect(result.sections[2]!.startChar).toBe(result.pages![2]!.startChar);
    expect(result.sections[3]!.startChar).toBe(result.pages![2]!.startChar);
  });

  it('gives a PDF without an outline no sections', async () => {
    expect((await extractInProcess(textPdf([['One page']]))).sections).toEqual([]);
  });
});

describe('the title a file upload gets', () => {
  const file = 'plan_v3.final.docx';
  it('is the title given with the upload first, then the file property title', () => {
    const e = extracted({ text: 'First line', title: 'From properties' });
    expect(titleOf(e, { ...metadata, title: 'Given' }, file)).toBe('Given');
    expect(titleOf(e, metadata, file)).toBe('From properties');
  });

  it("else the text's first line with a letter (trimmed, capped at a word), else the file name, else Untitled", () => {
    expect(titleOf(extracted({ text: '\n  ---\n  Leg day   basics \nSquat.' }), metadata, file)).toBe(
      'Leg day basics',
    );
    const long = `${'word '.repeat(100)}end`;
    const capped = titleOf(extracted({ text: long }), metadata, file);
    expect(capped).toMatch(/^(word ){39}word…$/);
    expect(titleOf(extracted({ text: '1\nDRAFT\nSquat basics' }), metadata, file)).toBe('Squat basics');
    expect(titleOf(extracted({ text: ' \n *** \n 42' }), metadata, file)).toBe('plan_v3.final');
    expect(titleOf(extracted({ text: '' }), metadata, undefined)).toBe('Untitled');
  });

  it('is the heading without its markup when a heading opens the text, and not a later heading', () => {
    const md = '## Leg day\n\nSquat.';
    expect(
      titleOf(extracted({ text: md, sections: [{ level: 2, title: 'Leg day', startChar: 0 }] }), metadata),
    ).toBe('Leg day');
    const later = 'Annual report 2026\n\n# Introduction\n\nText.';
    const sections = [{ level: 1, title: 'Introduction', startChar: 20 }];
    expect(titleOf(extracted({ text: later, sections }), metadata)).toBe('Annual report 2026');
  });

  it('reads a first line from text with an over-long line', () => {
    expect(firstLine('x'.repeat(300))).toBe(`${'x'.repeat(200)}…`);
  });
});
