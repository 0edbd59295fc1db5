import { PDFParse } from 'pdf-parse';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { extractInProcess } from '../../src/infrastructure/extraction/extract.js';
import {
  DEFAULT_EXTRACTION_LIMITS,
  ExtractionError,
  type Extracted,
  type ExtractionHint,
  type ExtractionLimits,
} from '../../src/infrastructure/extraction/extraction.js';
import { storableText } from '../../src/infrastructure/extraction/text.js';
import { WorkerTextExtractor } from '../../src/infrastructure/extraction/worker-extractor.js';
import { encryptedPdf, flateBombPdf, imageOnlyPdf, textPdf } from '../fixtures/extraction/pdf.js';
import { scannedPdf } from '../fixtures/extraction/scanned.js';
import { deflated, deflatedZeros, docx, docxWith, documentXml, zip } from '../fixtures/extraction/zip.js';

const limits = (over: Partial<ExtractionLimits> = {}): ExtractionLimits => ({
  ...DEFAULT_EXTRACTION_LIMITS,
  ...over,
});

function extract(
  bytes: Uint8Array | string,
  hint: ExtractionHint = {},
  over: Partial<ExtractionLimits> = {},
) {
  return extractInProcess(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, hint, limits(over));
}

async function rejection(work: Promise<Extracted>): Promise<ExtractionError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ExtractionError))
    throw new Error(`expected an ExtractionError, got ${String(error)}`);
  return error;
}

/** A real 1×1 PNG: signature, IHDR, IDAT, IEND. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
    return out;
  };
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from([0, 0]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PAGES = [
  ['Page one, first line', 'Page one, second line'],
  ['Page two (with parentheses)'],
  ['Page three'],
];

describe('text PostgreSQL can store', () => {
  it('turns an unpaired surrogate (a DOCX character reference) into U+FFFD and a NUL into a space, offsets kept', async () => {
    const extracted = await extractInProcess(
      docx([{ heading: 1, text: 'Head &#xDC00;' }, { text: 'a &#xD800; b &#0; c' }]),
    );
    expect(extracted.text).toBe('Head \uFFFD\n\na \uFFFD b c');
    expect(extracted.sections).toEqual([{ level: 1, title: 'Head \uFFFD', startChar: 0 }]);
    expect(storableText('x\uD800\u0000y')).toBe('x\uFFFD y');
    expect(storableText('pair \uD83D\uDE00')).toBe('pair \uD83D\uDE00');
  });
});

describe('file type from the bytes', () => {
  it('refuses a PNG named x.pdf as an unsupported type (415)', async () => {
    const error = await rejection(extract(png(), { filename: 'x.pdf' }));
    expect([error.code, error.status]).toEqual(['UNSUPPORTED_FILE_TYPE', 415]);
    expect(error.message).toMatch(/PNG image.*upload a PDF, DOCX/);
  });

  it('reads a PDF named notes.txt as a PDF', async () => {
    const result = await extract(textPdf(PAGES), { filename: 'notes.txt' });
    expect([result.type, result.contentType]).toEqual(['pdf', 'application/pdf']);
  });

  it('accepts junk before %PDF- as PDF readers do', async () => {
    const result = await extract(
      Buffer.concat([Buffer.alloc(300, 0x20), Buffer.from('X-Mailer junk\n'), textPdf(PAGES)]),
    );
    expect(result.type).toBe('pdf');
  });

  it('keeps a text file that quotes %PDF- near its top as text', async () => {
    const result = await extract('A PDF file starts with %PDF-1.7 and a binary comment.\n', {
      filename: 'notes.txt',
    });
    expect(result.type).toBe('text');
  });

  it.each([
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), 'a.docx'],
    ['ELF', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(64)]), 'a.md'],
    [
      'legacy .doc (OLE)',
      Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(512)]),
      'a.docx',
    ],
    ['gzip', gzipSync('hello'), 'a.txt'],
    ['random binary with NUL bytes', Buffer.from([1, 2, 0, 3, 0, 0, 200, 17]), 'a.docx'],
  ])('refuses %s as an unsupported type', async (_name, bytes, filename) => {
    expect((await rejection(extract(bytes, { filename }))).code).toBe('UNSUPPORTED_FILE_TYPE');
  });

  it('refuses a ZIP that is not a Word document as an unsupported type', async () => {
    const other = zip([{ name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') }]);
    expect((await rejection(extract(other, { filename: 'sheet.docx' }))).code).toBe('UNSUPPORTED_FILE_TYPE');
  });

  it('refuses a ZIP signature followed by garbage as a corrupt file', async () => {
    const broken = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]);
    expect((await rejection(extract(broken, { filename: 'a.docx' }))).code).toBe('CORRUPT_FILE');
  });

  it('tells HTML, Markdown and plain text apart', async () => {
    expect((await extract('\uFEFF  \n<!DOCTYPE html><p>hi</p>')).type).toBe('html');
    expect((await extract('\n<body><p>hi</p></body>')).type).toBe('html');
    expect((await extract('<?xml version="1.0"?>\n<!-- x --><html lang="en"><p>hi</p></html>')).type).toBe(
      'html',
    );
    expect((await extract('plain words', { filename: 'readme.md' })).type).toBe('markdown');
    expect((await extract('intro\n## Usage\nrun <html> through it')).type).toBe('markdown');
    expect((await extract('#hashtag is not a heading', { filename: 'a.txt' })).type).toBe('text');
  });
});

describe('PDF', () => {
  it('keeps the text per page with offsets into the joined text', async () => {
    const result = await extract(textPdf(PAGES));
    expect(result.pageCount).toBe(3);
    const pageTexts = result.pages!.map((p) => result.text.slice(p.startChar, p.endChar));
    expect(pageTexts).toEqual([
      'Page one, first line\nPage one, second line',
      'Page two (with parentheses)',
      'Page three',
    ]);
    expect(result.pages!.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(result.text).toBe(pageTexts.join('\n\n'));
  });

  it('refuses a PDF whose only picture shows no words, saying OCR found none', async () => {
    const error = await rejection(extract(imageOnlyPdf()));
    expect([error.code, error.status]).toEqual(['NO_EXTRACTABLE_TEXT', 422]);
    expect(error.message).toMatch(/OCR found no words/);
  });

  it('reads a scanned page by OCR, offline, and says which pages it read', async () => {
    const result = await extract(scannedPdf(['Magnesium glycinate helps sleep', 'Take 300 mg before bed']));
    expect(result.text).toMatch(/Magnesium glycinate helps sleep/);
    expect(result.text).toMatch(/300 mg/);
    expect(result.ocr).toEqual({ pages: [1], skippedPages: [] });
  }, 60_000);

  it('leaves a scanned page out when OCR is off, and says so', async () => {
    const error = await rejection(extract(scannedPdf(['Words only in pixels']), {}, { ocrMaxPages: 0 }));
    expect(error.code).toBe('NO_EXTRACTABLE_TEXT');
    expect(error.message).toMatch(/OCR is off/);
  });

  it('refuses a truncated PDF as corrupt', async () => {
    const full = textPdf(PAGES);
    expect((await rejection(extract(full.subarray(0, Math.floor(full.length / 3))))).code).toBe(
      'CORRUPT_FILE',
    );
  });

  it('refuses a password-protected PDF, asking for the password to be removed', async () => {
    const error = await rejection(extract(encryptedPdf(['Secret text'], 'secret')));
    expect(error.code).toBe('ENCRYPTED_PDF');
    expect(error.message).toMatch(/remove the password/);
  });

  it('has an encrypted fixture that really is one: with its password pdf.js reads the text', async () => {
    const parser = new PDFParse({
      data: new Uint8Array(encryptedPdf(['Secret text'], 'secret')),
      password: 'secret',
    });
    try {
      expect((await parser.getText()).pages[0]!.text).toBe('Secret text');
    } finally {
      await parser.destroy();
    }
  });

  it('refuses more pages than maxPdfPages (413)', async () => {
    const error = await rejection(extract(textPdf(PAGES), {}, { maxPdfPages: 2 }));
    expect([error.code, error.status, error.details]).toEqual([
      'TOO_MANY_PAGES',
      413,
      { pages: 3, maxPdfPages: 2 },
    ]);
  });
});

describe('DOCX', () => {
  it('keeps headings as sections and separates paragraphs by blank lines', async () => {
    const result = await extract(
      docx([
        { heading: 1, text: 'Training plan' },
        { text: 'Warm up first.' },
        { heading: 2, text: 'Week 1' },
        { text: 'Run 5 km.' },
      ]),
    );
    expect(result.type).toBe('docx');
    expect(result.text).toBe('Training plan\n\nWarm up first.\n\nWeek 1\n\nRun 5 km.');
    expect(result.sections).toEqual([
      { level: 1, title: 'Training plan', startChar: 0 },
      { level: 2, title: 'Week 1', startChar: result.text.indexOf('Week 1') },
    ]);
  });

  it('refuses a 300 MB zip bomb without inflating it (64 MB heap)', async () => {
    const bomb = docxWith({ name: 'word/document.xml', deflated: await deflatedZeros(300) });
    const error = await rejection(new WorkerTextExtractor(limits({ maxMemoryMb: 64 })).extract(bomb));
    expect(['UNSAFE_ARCHIVE', 'FILE_TOO_LARGE']).toContain(error.code);
  });

  it('refuses a part that inflates to more than it declares (64 MB heap)', async () => {
    const lying = docxWith({
      name: 'word/document.xml',
      deflated: await deflatedZeros(100),
      declaredSize: 4096,
    });
    const error = await rejection(new WorkerTextExtractor(limits({ maxMemoryMb: 64 })).extract(lying));
    expect(error.code).toBe('UNSAFE_ARCHIVE');
    expect(error.details?.reason).toMatch(/too many bytes/);
  });

  it('refuses a file whose text is longer than a document may hold (413 TEXT_TOO_LARGE), whatever its type', async () => {
    const words = 'protein satiety '.repeat(100);
    const lines = Array.from({ length: 30 }, () => 'protein satiety protein satiety');
    for (const file of [Buffer.from(words), docx([{ text: words }]), textPdf([lines])]) {
      const error = await rejection(extract(file, {}, { maxTextChars: 500 }));
      expect([error.code, error.status]).toEqual(['TEXT_TOO_LARGE', 413]);
      expect(error.details).toMatchObject({ maxCharacters: 500 });
      // The same file under a limit it fits is extracted: the refusal is the length, not the file.
      expect((await extract(file, {}, { maxTextChars: 10_000 })).text).toContain('protein satiety');
    }
    // A text file too large to fit even at 4 bytes a character is refused from its size, before any decoding;
    // the worker path refuses it before a worker starts.
    const huge = Buffer.from('protein '.repeat(251));
    for (const work of [
      extract(huge, {}, { maxTextChars: 500 }),
      new WorkerTextExtractor(limits({ maxTextChars: 500 })).extract(huge),
    ]) {
      const error = await rejection(work);
      expect([error.code, error.details]).toEqual(['TEXT_TOO_LARGE', { size: 2008, maxCharacters: 500 }]);
    }
  });

  it('refuses a DOCX that unpacks to more than maxUncompressedBytes (413)', async () => {
    const error = await rejection(extract(docx([{ text: 'small' }]), {}, { maxUncompressedBytes: 1000 }));
    expect([error.code, error.status]).toEqual(['FILE_TOO_LARGE', 413]);
  });

  it('refuses an archive of more than 10,000 entries', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({
      name: `word/media/${i}.bin`,
      data: Buffer.alloc(0),
    }));
    const main = { name: 'word/document.xml', deflated: deflated(Buffer.from(documentXml([{ text: 'x' }]))) };
    expect((await rejection(extract(docxWith(main, many)))).code).toBe('UNSAFE_ARCHIVE');
  });

  it('refuses a Word package without its main document as corrupt', async () => {
    const partial = zip([{ name: 'word/styles.xml', data: Buffer.from('<w:styles/>') }]);
    expect((await rejection(extract(partial))).code).toBe('CORRUPT_FILE');
  });
});

describe('text and Markdown', () => {
  it('refuses invalid UTF-8 (Windows-1252 "café")', async () => {
    const error = await rejection(extract(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])));
    expect([error.code, error.status]).toEqual(['INVALID_ENCODING', 422]);
    expect(error.message).toMatch(/UTF-8/);
  });

  it('refuses UTF-16 text, saying to save it as UTF-8', async () => {
    const error = await rejection(extract(Buffer.from('\uFEFFhello', 'utf16le')));
    expect(error.code).toBe('INVALID_ENCODING');
  });

  it('removes the BOM and NULs, turns CRLF and CR into LF, and normalises to NFC', async () => {
    // The NUL sits after the 8 KB that binary detection samples.
    const text = `\uFEFFline one\r\nline two\rcafe\u0301 ${'x'.repeat(9000)}\0end`;
    const result = await extract(text);
    expect(result.text).toBe(`line one\nline two\ncafé ${'x'.repeat(9000)}end`);
  });

  it('makes sections of ATX headings, not of lines inside fenced code', async () => {
    const source = '# Title #\n\nintro\n\n```sh\n# not a heading\n```\n\n### Deeper\ntext\n';
    const result = await extract(source, { filename: 'guide.md' });
    expect(result.text).toBe(source);
    expect(result.sections).toEqual([
      { level: 1, title: 'Title', startChar: 0 },
      { level: 3, title: 'Deeper', startChar: source.indexOf('### Deeper') },
    ]);
  });

  it.each([
    ['no bytes', Buffer.alloc(0)],
    ['only whitespace and a BOM', Buffer.from('\uFEFF \n\t\r\n ')],
  ])('refuses a file with %s as empty', async (_name, bytes) => {
    expect((await rejection(extract(bytes))).code).toBe('EMPTY_FILE');
  });

  it('refuses a file over maxBytes before reading it (413)', async () => {
    const error = await rejection(extract(png(), {}, { maxBytes: 10 }));
    expect([error.code, error.status]).toEqual(['FILE_TOO_LARGE', 413]);
  });
});

describe('HTML', () => {
  const page = `<!doctype html><html><head><title>Not content</title><style>p { color: red }</style></head>
<body><h1>Recovery &amp; sleep</h1><p>Sleep <a href="https://example.com/x">eight hours</a>.<img src="a.png" alt="chart"></p>
<script>alert(1)</script><h2>Naps</h2><p>Short ones.</p></body></html>`;

  it('turns HTML into text, keeping link text and dropping scripts, styles, images and URLs', async () => {
    const result = await extract(page);
    expect(result.text).toBe('Recovery & sleep\n\nSleep eight hours.\n\nNaps\n\nShort ones.');
    expect(result.sections).toEqual([
      { level: 1, title: 'Recovery & sleep', startChar: 0 },
      { level: 2, title: 'Naps', startChar: result.text.indexOf('Naps') },
    ]);
  });

  it('refuses an HTML page without text', async () => {
    expect((await rejection(extract('<html><body><img src="a.png"></body></html>'))).code).toBe(
      'NO_EXTRACTABLE_TEXT',
    );
  });
});

describe('WorkerTextExtractor', () => {
  it('extracts in a worker the same as in process, leaving the caller its bytes', async () => {
    const bytes = textPdf(PAGES);
    const inWorker = await new WorkerTextExtractor().extract(bytes);
    expect(bytes.byteLength).toBeGreaterThan(0);
    expect(inWorker).toEqual(await extract(Buffer.from(bytes)));
  });

  it("leaves a caller's Buffer intact: the worker gets a copy, not the Buffer's memory", async () => {
    // Buffer.prototype.slice() is a view, not a copy: transferring its ArrayBuffer would detach the caller's
    // bytes (an upload's buffer, hashed after extraction). Buffer.concat of 8 KB+ is not pooled, so it could.
    const text = '# Protocol\n\n' + 'Two eggs at breakfast.\n'.repeat(1000);
    const bytes = Buffer.concat([Buffer.from(text)]);
    const result = await new WorkerTextExtractor().extract(bytes);
    expect(result.text).toContain('Two eggs at breakfast.');
    expect(bytes.byteLength).toBe(Buffer.byteLength(text));
    expect(bytes.toString()).toBe(text);
  });

  it('passes an ExtractionError from the worker on with its code and message', async () => {
    const bytes = encryptedPdf(['Secret text'], 'secret');
    const expected = await rejection(extract(Buffer.from(bytes)));
    const error = await rejection(new WorkerTextExtractor().extract(bytes));
    expect([error.code, error.status, error.message]).toEqual([
      expected.code,
      expected.status,
      expected.message,
    ]);
  });

  it('extracts small text and Markdown in the calling thread, and HTML, large text and PDFs in a worker', async () => {
    // A 1 ms limit stops any worker: what finishes ran without one.
    const instant = new WorkerTextExtractor(limits({ timeoutMs: 1, ocrMaxPages: 0 }));
    expect((await instant.extract(Buffer.from('# Small\n\nA note.'))).type).toBe('markdown');
    expect((await instant.extract(Buffer.from('A plain note.'))).text).toBe('A plain note.');
    const html = Buffer.from('<html><body><p>A page.</p></body></html>');
    expect((await rejection(instant.extract(html))).code).toBe('EXTRACTION_TIMEOUT');
    const large = Buffer.from('a few words on a line\n'.repeat(20_000));
    expect((await rejection(instant.extract(large))).code).toBe('EXTRACTION_TIMEOUT');
  });

  it('stops a worker that runs out of time', async () => {
    const error = await rejection(
      new WorkerTextExtractor(limits({ timeoutMs: 1, ocrMaxPages: 0 })).extract(textPdf(PAGES)),
    );
    expect([error.code, error.status]).toEqual(['EXTRACTION_TIMEOUT', 422]);
  });

  it('ends a worker that runs out of memory without harming the process', async () => {
    const big = '# Heading\n' + 'a few words on a line\n'.repeat(1_500_000);
    // A text limit far above the file: this is about the worker's memory, not the length of a document's text.
    const tight = new WorkerTextExtractor(limits({ maxMemoryMb: 48, maxTextChars: 100_000_000 }));
    expect((await tight.extract(Buffer.from('# Small\n'))).type).toBe('markdown');
    const error = await rejection(tight.extract(Buffer.from(big)));
    expect(error.code).toBe('EXTRACTION_FAILED');
    // Whichever guard trips first (the worker's heap limit or the RSS watch), the worker is ended, not us.
    expect(['ERR_WORKER_OUT_OF_MEMORY', 'RSS_LIMIT']).toContain(error.details?.errorCode);
    expect(error.message).toMatch(/more memory than allowed/);
    expect((await tight.extract(Buffer.from('# Still here\n'))).type).toBe('markdown');
  });

  it('stops a worker whose ArrayBuffers outgrow the memory limit (a PDF stream that inflates to 1 GB)', async () => {
    const bomb = await flateBombPdf(1024);
    expect(bomb.byteLength).toBeLessThan(2 * 1024 * 1024);
    const error = await rejection(new WorkerTextExtractor(limits({ maxMemoryMb: 64 })).extract(bomb));
    expect(error.code).toBe('EXTRACTION_FAILED');
    expect(['ERR_WORKER_OUT_OF_MEMORY', 'RSS_LIMIT', 'BUFFER_LIMIT']).toContain(error.details?.errorCode);
    expect(error.message).toMatch(/more memory than allowed/);
  });

  it('refuses a buffer above a quarter of the memory limit before it is made (pdf.js doubling its stream buffer)', async () => {
    // 100 MB of content: pdf.js holds 64 MB and asks for 128 MB, which the worker refuses; the process has
    // grown by less than the 256 MB the RSS watch allows, so the refusal is what stops it.
    const error = await rejection(
      new WorkerTextExtractor(limits({ maxMemoryMb: 256 })).extract(await flateBombPdf(100)),
    );
    expect(error.code).toBe('EXTRACTION_FAILED');
    expect(error.details).toMatchObject({
      errorCode: 'BUFFER_LIMIT',
      reason: 'a buffer of 128 MB was refused',
    });
    expect(error.message).toMatch(/more memory than allowed \(256 MB\)/);
  });

  it('refuses an oversize file before reading it', async () => {
    const error = await rejection(
      new WorkerTextExtractor(limits({ maxBytes: 100 })).extract(Buffer.alloc(101, 0x61)),
    );
    expect(error.code).toBe('FILE_TOO_LARGE');
  });
});
