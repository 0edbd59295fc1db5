import mammoth from 'mammoth';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { unsupported } from './detect.js';
import { ExtractionError, mb, type ExtractionLimits } from './extraction.js';
import { extractHtml } from './html.js';
import type { TextParts } from './text.js';
import { propertyTitle } from './title.js';

/**
 * DOCX → text. The ZIP is inspected with yauzl before mammoth (whose JSZip inflates whole entries in memory)
 * sees it: declared sizes, compression ratios and entry count first, then the XML parts are inflated as a
 * stream, so a part that inflates to more than it declares is caught after a few bytes too many.
 */
const MAX_ENTRIES = 10_000;
const BOMB_RATIO = 100;
const BOMB_MIN_BYTES = 10 * 1024 * 1024;
const MAIN_PART = 'word/document.xml';
/** The core properties (Dublin Core: dc:title…), read while the parts' sizes are verified. */
const CORE_PART = 'docProps/core.xml';
/** More than enough for a title: the part is kept only up to this many bytes. */
const CORE_MAX_BYTES = 64 * 1024;

export async function extractDocx(bytes: Uint8Array, limits: ExtractionLimits): Promise<TextParts> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const core = await inspectZip(buffer, limits);
  const title = coreTitle(core);
  return { ...extractHtml(await toHtml(buffer)), ...(title ? { title } : {}) };
}

/** dc:title of the core properties, entities decoded, when it is a real title. */
export function coreTitle(xml: string): string | undefined {
  const match = /<(?:[\w.-]+:)?title\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?title>/.exec(xml);
  return match ? propertyTitle(decodeXml(match[1]!)) : undefined;
}

function decodeXml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, name: string) => {
    if (name[0] !== '#') return named[name] ?? entity;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/** Checks the archive; returns the core properties part's text ('' if there is none). */
async function inspectZip(buffer: Buffer, limits: ExtractionLimits): Promise<string> {
  let zip: ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(buffer, {
      lazyEntries: true,
      validateEntrySizes: true,
      autoClose: false,
    });
  } catch (error) {
    throw zipError(error);
  }
  try {
    const entries = await listEntries(zip);
    checkDeclaredSizes(entries, limits);
    if (!entries.some((e) => e.fileName === MAIN_PART)) {
      // A ZIP with Word parts but no main document is a broken DOCX; anything else is another kind of ZIP.
      if (entries.some((e) => e.fileName.startsWith('word/'))) throw corrupt(`${MAIN_PART} is missing`);
      throw unsupported('a ZIP archive that is not a Word document (.docx)');
    }
    return await verifyActualSizes(zip, entries, limits);
  } catch (error) {
    throw zipError(error);
  } finally {
    zip.close();
  }
}

async function listEntries(zip: ZipFile): Promise<Entry[]> {
  if (zip.entryCount > MAX_ENTRIES) throw tooManyEntries(zip.entryCount);
  const entries: Entry[] = [];
  for await (const entry of zip.eachEntry()) {
    entries.push(entry);
    if (entries.length > MAX_ENTRIES) throw tooManyEntries(entries.length);
  }
  return entries;
}

function checkDeclaredSizes(entries: Entry[], limits: ExtractionLimits): void {
  let total = 0;
  for (const { fileName, compressedSize, uncompressedSize } of entries) {
    if (uncompressedSize > BOMB_MIN_BYTES && uncompressedSize > BOMB_RATIO * Math.max(compressedSize, 1)) {
      throw unsafe(`${fileName} would inflate from ${mb(compressedSize)} to ${mb(uncompressedSize)}`);
    }
    total += uncompressedSize;
  }
  if (total > limits.maxUncompressedBytes) {
    throw new ExtractionError(
      'FILE_TOO_LARGE',
      `the document unpacks to ${mb(total)}; the most accepted is ${mb(limits.maxUncompressedBytes)}`,
      { uncompressedBytes: total, maxUncompressedBytes: limits.maxUncompressedBytes },
    );
  }
}

/**
 * Inflates the parts mammoth will read (XML and relationships); yauzl fails a part that overruns its size.
 * Returns the start of the core properties part on the way.
 */
async function verifyActualSizes(zip: ZipFile, entries: Entry[], limits: ExtractionLimits): Promise<string> {
  let total = 0;
  const core: Buffer[] = [];
  let coreBytes = 0;
  for (const entry of entries.filter((e) => /\.(xml|rels)$/i.test(e.fileName))) {
    const stream = await zip.openReadStreamPromise(entry);
    const isCore = entry.fileName === CORE_PART;
    for await (const chunk of stream) {
      total += (chunk as Buffer).byteLength;
      if (isCore && coreBytes < CORE_MAX_BYTES) {
        core.push(chunk as Buffer);
        coreBytes += (chunk as Buffer).byteLength;
      }
      if (total > limits.maxUncompressedBytes) {
        stream.destroy();
        throw unsafe(`its parts inflate to more than ${mb(limits.maxUncompressedBytes)}`);
      }
    }
  }
  return Buffer.concat(core).subarray(0, CORE_MAX_BYTES).toString('utf8');
}

async function toHtml(buffer: Buffer): Promise<string> {
  try {
    const result = await mammoth.convertToHtml(
      { buffer },
      {
        // Images are not text: give mammoth an empty src so it never reads or base64-encodes them.
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })),
        externalFileAccess: false,
        ignoreEmptyParagraphs: true,
      },
    );
    return result.value;
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw corrupt(error instanceof Error ? error.message : String(error));
  }
}

function zipError(error: unknown): unknown {
  if (error instanceof ExtractionError || !(error instanceof Error)) return error;
  // yauzl's words for an entry that inflates to more or less than declared, or escapes its folder.
  if (/bytes in the stream|absolute path|invalid relative path/.test(error.message)) {
    return unsafe(error.message);
  }
  return corrupt(error.message);
}

function corrupt(reason: string): ExtractionError {
  return new ExtractionError(
    'CORRUPT_FILE',
    'the Word document is damaged and cannot be read; open it in Word, save it again as .docx and upload the new copy',
    { reason },
  );
}

function unsafe(reason: string): ExtractionError {
  return new ExtractionError(
    'UNSAFE_ARCHIVE',
    'the Word document is packed in a way used to attack servers (a "zip bomb"), so it was not opened',
    { reason },
  );
}

function tooManyEntries(count: number): ExtractionError {
  return unsafe(`it has ${count} parts; at most ${MAX_ENTRIES} are accepted`);
}
