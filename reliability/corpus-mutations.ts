/**
 * `tsx reliability/corpus-mutations.ts [--corpus ../shared/corpus] [--count 1000] [--seed 17] [--concurrency 3]
 * [--ocr] [--max-minutes 80] [--only i,j] [--out <dir>]`: the mutated-corpus run of issue 17 (RELIABILITY.md, "Hostile input").
 *
 * From the real PDF and DOCX files listed in the corpus's MANIFEST.tsv it generates `--count` mutated files (seeded):
 * byte flips, truncations, chunk duplication and zeroed ranges on any file; for a DOCX (a zip) also entry-level
 * mutations (a corrupt word/document.xml, billion laughs, XXE naming file:///etc/passwd, zip bombs — one giant
 * highly compressible entry, honest or lying about its size — and tens of thousands of entries); for a PDF also
 * incremental updates holding a Flate bomb, a page-tree loop, JavaScript actions and a huge object count. Each is
 * uploaded (multipart POST /documents, as an editor) to the built service (`node dist/src/main.js serve`, PGlite on
 * disk in a temp DATA_DIR), 3 at a time, while its resident memory is sampled every 250 ms.
 *
 * Properties (exit 1 when one fails): no 5xx, the service never exits, no upload slower than the extraction limit
 * plus a margin, no answer holding SQL or stack text, no /etc/passwd text in a stored document, and an innocent
 * upload afterwards still works, and every file was sent within `--max-minutes` (uploads stop being started then,
 * the figures of what was sent are still printed, and the run counts as failed). The maximum RSS is reported but not a failure (the memory cap is separate work).
 *
 * OCR is off by default (OCR_MAX_PAGES=0): with it on, each mutated scan costs up to OCR_TIMEOUT_MS (180 s) and
 * 1,000 files do not fit the run's bound on 2 cores; `--ocr` keeps the service's default and widens the hang limit.
 * Zips are written by a minimal writer here (node:zlib), since no zip writer is a dependency (jszip is only
 * mammoth's); zip bombs are built from full-flush deflate blocks repeated, so a 1 GB entry costs ~1 MB to make.
 * Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { minimalPdf } from '../test/support/pdf.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const corpusDir = resolve(repo, arg('corpus', '../shared/corpus'));
const count = Number(arg('count', '1000'));
const seed = Number(arg('seed', '17'));
const concurrency = Number(arg('concurrency', '3'));
const ocr = process.argv.includes('--ocr');
/** Only these mutant indexes (to replay one seen failing). */
const only = process.argv.includes('--only') ? arg('only', '').split(',').map(Number) : undefined;
/** Stop starting uploads after this long (the runner's bound is 90 min), and report what was done. */
const maxMinutes = Number(arg('max-minutes', '80'));
const outDir = process.argv.includes('--out') ? resolve(arg('out', '')) : undefined;

// The service's limits (its defaults, src/infrastructure/config/config.ts): the hang bound derives from them.
const EXTRACTION_TIMEOUT_MS = 60_000;
const OCR_TIMEOUT_MS = 180_000;
const OCR_LAST_PAGE_MS = 30_000;
/** Upload, queueing behind 2 other uploads on a busy 2-core machine, the write itself. */
const MARGIN_MS = 30_000;
const HANG_MS = EXTRACTION_TIMEOUT_MS + (ocr ? OCR_TIMEOUT_MS + OCR_LAST_PAGE_MS : 0) + MARGIN_MS;
const EDITOR_KEY = 'editor-carnivore-mutations-0123456789';
const META = JSON.stringify({ documentType: 'research', tags: ['mutated'], accessTier: 'free' });
const LEAK =
  /\bat \/|\bat [\w.<>]+ \(|node_modules|SELECT |INSERT |UPDATE \w+ SET|syntax error|invalid input syntax|unsupported Unicode|byte sequence|duplicate key|violates|relation "/i;
const PASSWD = /root:x?:0:0|\/bin\/(ba)?sh|daemon:/;

// ---------------------------------------------------------------------------------------------------- random

/** mulberry32: small, seeded, good enough to pick mutations reproducibly. */
function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// ---------------------------------------------------------------------------------------------------- bytes

function flipBytes(r: Rand, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const n = int(r, 1, 64);
  for (let i = 0; i < n && out.length > 0; i++) out[int(r, 0, out.length - 1)]! ^= 1 << int(r, 0, 7);
  return out;
}
function truncate(r: Rand, b: Buffer): Buffer {
  return b.subarray(0, int(r, 0, Math.max(0, b.length - 1)));
}
function duplicateChunk(r: Rand, b: Buffer): Buffer {
  const start = int(r, 0, Math.max(0, b.length - 1));
  const len = int(r, 1, Math.min(256 * 1024, Math.max(1, b.length - start)));
  const at = int(r, 0, b.length);
  const chunk = b.subarray(start, start + len);
  const times = int(r, 1, 8);
  return Buffer.concat([b.subarray(0, at), ...Array<Buffer>(times).fill(chunk), b.subarray(at)]);
}
function zeroRange(r: Rand, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const start = int(r, 0, Math.max(0, out.length - 1));
  out.fill(0, start, Math.min(out.length, start + int(r, 1, 64 * 1024)));
  return out;
}
const BYTE_MUTATIONS = { flipBytes, truncate, duplicateChunk, zeroRange } as const;

// ---------------------------------------------------------------------------------------------------- deflate

interface Packed {
  /** Raw deflate data. */
  data: Buffer;
  crc: number;
  size: number;
  adler: number;
}

/** Raw deflate of `parts`, each repeated: full-flush blocks concatenated, then an empty final block. */
function deflateRepeated(parts: Array<{ data: Buffer; times: number }>): Packed {
  const blocks: Buffer[] = [];
  let crc = 0;
  let size = 0;
  let a = 1;
  let b = 0;
  for (const part of parts) {
    const block = deflateRawSync(part.data, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
    for (let i = 0; i < part.times; i++) {
      blocks.push(block);
      crc = crc32(part.data, crc);
      size += part.data.length;
      // Adler-32 of the whole (for the zlib wrapper of a PDF's FlateDecode).
      for (let j = 0; j < part.data.length; j++) {
        a = (a + part.data[j]!) % 65521;
        b = (b + a) % 65521;
      }
    }
  }
  blocks.push(Buffer.from([0x03, 0x00]));
  return { data: Buffer.concat(blocks), crc, size, adler: ((b << 16) | a) >>> 0 };
}

/** The same as a zlib stream (header, deflate, Adler-32), for a PDF's /FlateDecode. */
function zlibOf(p: Packed): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(p.adler, 0);
  return Buffer.concat([Buffer.from([0x78, 0xda]), p.data, tail]);
}

// ---------------------------------------------------------------------------------------------------- zip

interface Entry {
  name: string;
  data?: Buffer;
  packed?: Packed;
  /** Lie about the uncompressed size (both headers). */
  declaredSize?: number;
}

/** A zip with deflated entries, written by hand (hostile archives need sizes and names no writer allows). */
function zipOf(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = e.packed ?? {
      data: deflateRawSync(e.data ?? Buffer.alloc(0)),
      crc: crc32(e.data ?? Buffer.alloc(0)),
      size: (e.data ?? Buffer.alloc(0)).length,
      adler: 0,
    };
    const size = (e.declaredSize ?? packed.size) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(packed.crc >>> 0, 14);
    local.writeUInt32LE(packed.data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(packed.crc >>> 0, 16);
    central.writeUInt32LE(packed.data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    parts.push(local, name, packed.data);
    centrals.push(central, name);
    offset += 30 + name.length + packed.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

/** Every entry of a (real, small) zip, decompressed; yauzl is a dependency already. */
function unzip(bytes: Buffer): Promise<Array<{ name: string; data: Buffer }>> {
  return new Promise((resolveAll, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const out: Array<{ name: string; data: Buffer }> = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.push({ name: entry.fileName, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolveAll(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const para = (text: string) => `<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`;

/** DOCX entry-level mutations: the real package with word/document.xml (or its entries) replaced. */
const DOCX_MUTATIONS: Record<string, (r: Rand, entries: Array<{ name: string; data: Buffer }>) => Entry[]> = {
  corruptXml(r, entries) {
    return entries.map((e) =>
      e.name === 'word/document.xml'
        ? { name: e.name, data: pick(r, [flipBytes, truncate, duplicateChunk])(r, e.data) }
        : e,
    );
  },
  unclosedXml(r, entries) {
    return entries.map((e) =>
      e.name === 'word/document.xml'
        ? {
            name: e.name,
            data: Buffer.from(
              `<?xml version="1.0"?><w:document ${W}><w:body>${'<w:p><w:r>'.repeat(int(r, 1000, 200_000))}`,
            ),
          }
        : e,
    );
  },
  billionLaughs(r, entries) {
    const levels = int(r, 6, 10);
    let dtd = '<!ENTITY lol0 "lollollollollollollollollollol">';
    for (let i = 1; i <= levels; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const xml = `<?xml version="1.0"?><!DOCTYPE w:document [${dtd}]><w:document ${W}><w:body>${para(`&lol${levels};`)}</w:body></w:document>`;
    return entries.map((e) =>
      e.name === 'word/document.xml' ? { name: e.name, data: Buffer.from(xml) } : e,
    );
  },
  recursiveEntities(_r, entries) {
    const xml = `<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "&b;"><!ENTITY b "&a;">]><w:document ${W}><w:body>${para('&a;')}</w:body></w:document>`;
    return entries.map((e) =>
      e.name === 'word/document.xml' ? { name: e.name, data: Buffer.from(xml) } : e,
    );
  },
  xxe(r, entries) {
    const target = pick(r, ['file:///etc/passwd', 'file:///proc/self/environ', 'http://127.0.0.1:1/x']);
    const xml = `<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "${target}"><!ENTITY % p SYSTEM "${target}">]><w:document ${W}><w:body>${para('Before the entity.')}${para('&xxe;')}${para('After the entity.')}</w:body></w:document>`;
    return entries.map((e) =>
      e.name === 'word/document.xml' ? { name: e.name, data: Buffer.from(xml) } : e,
    );
  },
  zipBomb(r, entries) {
    // word/document.xml one giant paragraph of spaces or letters, 200 MB to 1 GB once inflated.
    const unit = Buffer.alloc(1024 * 1024, pick(r, [' ', 'a', 'lorem ']));
    const packed = deflateRepeated([
      { data: Buffer.from(`<?xml version="1.0"?><w:document ${W}><w:body><w:p><w:r><w:t>`), times: 1 },
      { data: unit, times: int(r, 200, 1000) },
      { data: Buffer.from('</w:t></w:r></w:p></w:body></w:document>'), times: 1 },
    ]);
    const lie = r() < 0.5 ? int(r, 100, 100_000) : undefined;
    return entries.map((e) =>
      e.name === 'word/document.xml' ? { name: e.name, packed, declaredSize: lie } : e,
    );
  },
  bombBeside(r, entries) {
    // A giant entry the extractor has no reason to read (media), beside the real document.
    const packed = deflateRepeated([{ data: Buffer.alloc(1024 * 1024), times: int(r, 500, 2000) }]);
    return [...entries, { name: 'word/media/image99.png', packed }];
  },
  manyEntries(r, entries) {
    const n = int(r, 10_000, 65_000);
    const extra: Entry[] = [];
    for (let i = 0; i < n; i++) extra.push({ name: `word/x/${i}.xml`, data: Buffer.from('<a/>') });
    return [...entries, ...extra];
  },
  duplicateNames(_r, entries) {
    const doc = entries.find((e) => e.name === 'word/document.xml');
    return doc ? [...entries, { name: doc.name, data: Buffer.from('<not-xml') }] : entries;
  },
  traversalNames(_r, entries) {
    return [...entries, { name: '../../../../tmp/docsvc-escape.txt', data: Buffer.from('escaped') }];
  },
  nestedZip(r, entries) {
    const inner = zipOf([
      {
        name: 'word/document.xml',
        packed: deflateRepeated([{ data: Buffer.alloc(1 << 20, 32), times: int(r, 100, 500) }]),
      },
    ]);
    return entries.map((e) => (e.name === 'word/document.xml' ? { name: e.name, data: inner } : e));
  },
};

// ---------------------------------------------------------------------------------------------------- pdf

/** An incremental update: `objects` (by id) appended after the original, with a classic xref section. */
function pdfUpdate(
  base: Buffer,
  build: (next: () => number, root: number, pages?: number) => Map<number, Buffer>,
): Buffer {
  const text = base.toString('latin1');
  const startxref = [...text.matchAll(/startxref\s+(\d+)/g)].pop()?.[1];
  const root = [...text.matchAll(/\/Root\s+(\d+)\s+0\s+R/g)].pop()?.[1];
  const size = [...text.matchAll(/\/Size\s+(\d+)/g)].pop()?.[1];
  const pages = /\/Type\s*\/Catalog[^]*?\/Pages\s+(\d+)\s+0\s+R/.exec(text)?.[1];
  if (!startxref || !root || !size) return pdfUpdate(minimalPdf(['A page of plain text.']), build);
  let nextId = Number(size);
  const objects = build(() => nextId++, Number(root), pages ? Number(pages) : undefined);
  const chunks: Buffer[] = [base, Buffer.from('\n')];
  let offset = base.length + 1;
  const offsets = new Map<number, number>();
  for (const [id, body] of [...objects].sort(([a], [b]) => a - b)) {
    offsets.set(id, offset);
    const head = Buffer.from(`${id} 0 obj\n`);
    const tail = Buffer.from('\nendobj\n');
    chunks.push(head, body, tail);
    offset += head.length + body.length + tail.length;
  }
  let xref = 'xref\n';
  for (const [id, at] of [...offsets].sort(([a], [b]) => a - b))
    xref += `${id} 1\n${String(at).padStart(10, '0')} 00000 n \n`;
  const newSize = Math.max(nextId, Number(root) + 1);
  xref += `trailer\n<< /Size ${newSize} /Root ${root} 0 R /Prev ${startxref} >>\nstartxref\n${offset}\n%%EOF\n`;
  chunks.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(chunks);
}

const s = (x: string) => Buffer.from(x, 'latin1');
const stream = (dict: string, data: Buffer) =>
  Buffer.concat([s(`<< ${dict} /Length ${data.length} >>\nstream\n`), data, s('\nendstream')]);
const FONT = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';

const PDF_MUTATIONS: Record<string, (r: Rand, base: Buffer) => Buffer> = {
  flateBomb(r, base) {
    return pdfUpdate(base, (next, root) => {
      const [pages, page, contents, font] = [next(), next(), next(), next()];
      const unit = pick(r, [
        Buffer.alloc(1 << 20),
        Buffer.from('BT /F1 12 Tf 72 700 Td (Bombs away, again and again) Tj ET\n'.repeat(16_384)),
      ]);
      const packed = deflateRepeated([{ data: unit, times: int(r, 200, 1000) }]);
      return new Map([
        [root, s(`<< /Type /Catalog /Pages ${pages} 0 R >>`)],
        [pages, s(`<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`)],
        [
          page,
          s(
            `<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /Font << /F1 ${font} 0 R >> >> >>`,
          ),
        ],
        [contents, stream('/Filter /FlateDecode', zlibOf(packed))],
        [font, s(FONT)],
      ]);
    });
  },
  pageTreeLoop(r, base) {
    return pdfUpdate(base, (next, root) => {
      const [a, b, page, contents, font] = [next(), next(), next(), next(), next()];
      const ops = s('BT /F1 12 Tf 72 700 Td (Round and round) Tj ET');
      const loop = r() < 0.5;
      return new Map([
        [root, s(`<< /Type /Catalog /Pages ${a} 0 R >>`)],
        // a's kids: itself (or b, whose kids are a), and a real page.
        [a, s(`<< /Type /Pages /Kids [${loop ? a : b} 0 R ${page} 0 R] /Count 2 >>`)],
        [b, s(`<< /Type /Pages /Parent ${a} 0 R /Kids [${a} 0 R] /Count 1 >>`)],
        [
          page,
          s(
            `<< /Type /Page /Parent ${a} 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /Font << /F1 ${font} 0 R >> >> >>`,
          ),
        ],
        [contents, stream('', ops)],
        [font, s(FONT)],
      ]);
    });
  },
  javascript(r, base) {
    return pdfUpdate(base, (next, root, pages) => {
      const [js, names, fallbackPages, page, contents, font] = [
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
      ];
      const code = pick(r, ['while(true){}', 'app.alert(1)', 'this.exportDataObject({cName:"x",nLaunch:2})']);
      const map = new Map<number, Buffer>([
        [js, s(`<< /S /JavaScript /JS (${code}) /Next [${js} 0 R] >>`)],
        [names, s(`<< /Names [(a) ${js} 0 R] >>`)],
        [
          root,
          s(
            `<< /Type /Catalog /Pages ${pages ?? fallbackPages} 0 R /OpenAction ${js} 0 R /AA << /WC ${js} 0 R >> /Names << /JavaScript ${names} 0 R >> >>`,
          ),
        ],
      ]);
      if (!pages) {
        map.set(fallbackPages, s(`<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`));
        map.set(
          page,
          s(
            `<< /Type /Page /Parent ${fallbackPages} 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /Font << /F1 ${font} 0 R >> >> >>`,
          ),
        );
        map.set(contents, stream('', s('BT /F1 12 Tf 72 700 Td (Scripted) Tj ET')));
        map.set(font, s(FONT));
      }
      return map;
    });
  },
  hugeObjectCount(r, base) {
    return pdfUpdate(base, (next, root) => {
      const [pages, font, contents] = [next(), next(), next()];
      const n = int(r, 50_000, 250_000);
      const map = new Map<number, Buffer>([
        [root, s(`<< /Type /Catalog /Pages ${pages} 0 R >>`)],
        [font, s(FONT)],
        [contents, stream('', s('BT /F1 12 Tf 72 700 Td (Many) Tj ET'))],
      ]);
      const kids: number[] = [];
      // Every object a page (beyond MAX_PDF_PAGES), or a lying /Count over a few.
      const asPages = r() < 0.5;
      for (let i = 0; i < n; i++) {
        const id = next();
        if (asPages) {
          kids.push(id);
          map.set(
            id,
            s(
              `<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /Font << /F1 ${font} 0 R >> >> >>`,
            ),
          );
        } else map.set(id, s(`<< /N ${i} /Next ${id + 1} 0 R >>`));
      }
      if (!asPages) kids.push(...[...map.keys()].slice(3, 6));
      map.set(
        pages,
        s(
          `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${asPages ? n : 2147483647} >>`,
        ),
      );
      return map;
    });
  },
};

// ---------------------------------------------------------------------------------------------------- corpus

interface Source {
  file: string;
  bytes: Buffer;
  kind: 'pdf' | 'docx';
}

function loadCorpus(): Source[] {
  const manifest = readFileSync(join(corpusDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return manifest
    .map((line) => line.split('\t')[0]!)
    .filter((f) => /\.(pdf|docx)$/i.test(f))
    .map((file) => ({
      file,
      bytes: readFileSync(join(corpusDir, file)),
      kind: file.toLowerCase().endsWith('.pdf') ? ('pdf' as const) : ('docx' as const),
    }));
}

interface Mutant {
  index: number;
  source: string;
  mutation: string;
  name: string;
  bytes: Buffer;
}

/** The i-th mutant: half byte-level mutations of any file, half structural ones of its kind. */
async function mutant(sources: Source[], index: number): Promise<Mutant> {
  const r = rng(seed * 1_000_003 + index);
  const src = pick(r, sources);
  let mutation: string;
  let bytes: Buffer;
  if (r() < 0.5) {
    mutation = pick(r, Object.keys(BYTE_MUTATIONS));
    bytes = BYTE_MUTATIONS[mutation as keyof typeof BYTE_MUTATIONS](r, src.bytes);
    // Sometimes twice over.
    if (r() < 0.2)
      bytes = BYTE_MUTATIONS[pick(r, Object.keys(BYTE_MUTATIONS)) as keyof typeof BYTE_MUTATIONS](r, bytes);
  } else if (src.kind === 'docx') {
    mutation = pick(r, Object.keys(DOCX_MUTATIONS));
    const entries = await unzip(src.bytes);
    bytes = zipOf(DOCX_MUTATIONS[mutation]!(r, entries));
  } else {
    mutation = pick(r, Object.keys(PDF_MUTATIONS));
    bytes = PDF_MUTATIONS[mutation]!(r, src.bytes);
  }
  const base = src.file.split('/').pop()!;
  return { index, source: src.file, mutation, name: `m${index}-${mutation}-${base}`, bytes };
}

// ---------------------------------------------------------------------------------------------------- service

interface Service {
  child: ChildProcess;
  base: string;
  exited: Promise<number | null>;
  /** The last lines the service wrote. */
  log(): string;
}

function startService(dataDir: string): Promise<Service> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL; // PGlite on disk, in DATA_DIR
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    cwd: repo,
    env: {
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      API_KEYS: JSON.stringify([{ key: EDITOR_KEY, role: 'editor', coaches: ['carnivore'] }]),
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'log',
      ...(ocr ? {} : { OCR_MAX_PAGES: '0' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a signal to ours (a terminal's ^C, a job control's) is not one to the service.
    detached: true,
  });
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code, signal) => r(code ?? (signal ? (`${signal}` as unknown as number) : null))),
  );
  let tail = '';
  const keep = (c: Buffer) => (tail = (tail + c.toString()).slice(-4000));
  child.stderr!.on('data', keep);
  return new Promise((resolveStart, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      keep(c);
      out += c.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) {
        out = '';
        child.stdout!.off('data', onData);
        child.stdout!.on('data', keep);
        resolveStart({ child, base: `http://127.0.0.1:${m[1]}`, exited, log: () => tail });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`the service exited (${code}) before listening: ${tail}`)));
  });
}

async function answersHealth(base: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface Answer {
  status: number;
  code: string;
  ms: number;
  body: string;
}

async function upload(base: string, name: string, bytes: Buffer): Promise<Answer> {
  const form = new FormData();
  form.set('coachId', 'carnivore');
  form.set('metadata', META);
  form.set('file', new Blob([bytes]), name);
  const started = performance.now();
  try {
    const res = await fetch(`${base}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EDITOR_KEY}` },
      body: form,
      signal: AbortSignal.timeout(HANG_MS + 60_000),
    });
    const body = await res.text();
    let code = '';
    try {
      code = (JSON.parse(body) as { code?: string }).code ?? '';
    } catch {
      code = '(not json)';
    }
    return { status: res.status, code, ms: performance.now() - started, body };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? (error as Error).name;
    return {
      status: 0,
      code,
      ms: performance.now() - started,
      body: `${String(error)}: ${cause?.message ?? ''}`,
    };
  }
}

// ---------------------------------------------------------------------------------------------------- run

async function main(): Promise<void> {
  const sources = loadCorpus();
  if (sources.length === 0) throw new Error(`no PDF or DOCX in ${corpusDir}/MANIFEST.tsv`);
  if (outDir) mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-mutations-'));
  let svc = await startService(dataDir);
  console.error(
    `service at ${svc.base} (pid ${svc.child.pid}), DATA_DIR ${dataDir}; ${sources.length} source files, ${count} mutants, seed ${seed}, hang limit ${HANG_MS} ms, OCR ${ocr ? 'on' : 'off'}`,
  );
  let maxRss = 0;
  let maxRssAt = '';
  let current: string[] = [];
  const sampler = setInterval(() => {
    const mb = rssMb(svc.child.pid!);
    if (mb > maxRss) [maxRss, maxRssAt] = [mb, current.join(', ')];
  }, 250);
  let crashes = 0;
  const crashLog: Array<{ code: number | null; during: string[] }> = [];
  let alive = true;
  const watch = (s: Service) =>
    void s.exited.then((code) => {
      if (s !== svc || !alive || replaced.has(s)) return;
      crashes++;
      crashLog.push({ code, during: [...current] });
      console.error(`!! service exited (${code}) during ${current.join(', ')}`);
    });
  watch(svc);

  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  const byMutation: Record<string, Record<string, number>> = {};
  const serverErrors: Array<{ name: string; status: number; body: string }> = [];
  const hangs: Array<{ name: string; ms: number; status: number }> = [];
  const leaks: Array<{ name: string; body: string }> = [];
  const passwd: string[] = [];
  const slowest: Array<{ name: string; ms: number; status: number; code: string }> = [];
  let restarting: Promise<void> | undefined;
  const lost: Array<{ name: string; error: string; alive: boolean }> = [];
  const replaced = new Set<Service>();
  const replace = async (old: Service): Promise<Service> => {
    replaced.add(old);
    if (old.child.exitCode === null && old.child.signalCode === null) {
      old.child.kill('SIGKILL');
      await old.exited;
    }
    return startService(dataDir);
  };
  const deadline = Date.now() + maxMinutes * 60_000;
  let stoppedByTime = false;
  let next = 0;
  let done = 0;
  let bytesSent = 0;
  const started = Date.now();

  const worker = async () => {
    for (;;) {
      if (Date.now() > deadline) return void (stoppedByTime = true);
      const n = next++;
      if (n >= (only?.length ?? count)) return;
      const i = only ? only[n]! : n;
      const m = await mutant(sources, i);
      bytesSent += m.bytes.length;
      if (outDir) writeFileSync(join(outDir, m.name), m.bytes);
      current.push(m.name);
      if (svc.child.exitCode !== null || svc.child.signalCode !== null) {
        // Crashed meanwhile: a fresh service on the same data, so that the run goes on and counts the rest.
        restarting ??= startService(dataDir).then((s) => {
          svc = s;
          watch(s);
          restarting = undefined;
        });
        await restarting;
      }
      let a = await upload(svc.base, m.name, m.bytes);
      if (a.status === 0 && !(await answersHealth(svc.base))) {
        // The service no longer answers at all (it exited, or stopped listening while alive): counted, replaced by
        // a fresh one on the same data, and the file sent again.
        lost.push({
          name: m.name,
          error: a.code,
          alive: svc.child.exitCode === null && svc.child.signalCode === null,
        });
        console.error(`!! the service stopped answering during ${m.name} (${a.code}); restarting it`);
        restarting ??= replace(svc).then((s) => {
          svc = s;
          watch(s);
          restarting = undefined;
        });
        await restarting;
        a = await upload(svc.base, m.name, m.bytes);
      }
      current = current.filter((n) => n !== m.name);
      byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      const key = `${a.status} ${a.code}`;
      byCode[key] = (byCode[key] ?? 0) + 1;
      (byMutation[m.mutation] ??= {})[key] = (byMutation[m.mutation]![key] ?? 0) + 1;
      if (a.status >= 500 || a.status === 0) {
        if (serverErrors.length < 5)
          console.error(
            `!! ${m.name}: ${a.status} ${a.body.slice(0, 300)}\n-- service log tail:\n${svc.log().slice(-1500)}`,
          );
        serverErrors.push({ name: m.name, status: a.status, body: a.body.slice(0, 500) });
      }
      if (a.ms > HANG_MS) hangs.push({ name: m.name, ms: Math.round(a.ms), status: a.status });
      if (LEAK.test(a.body)) leaks.push({ name: m.name, body: a.body.slice(0, 500) });
      slowest.push({ name: m.name, ms: Math.round(a.ms), status: a.status, code: a.code });
      slowest.sort((x, y) => y.ms - x.ms).splice(5);
      if (a.status >= 200 && a.status < 300 && /xxe|Entities|Laughs/i.test(m.mutation)) {
        const id = (JSON.parse(a.body) as { documentId: string }).documentId;
        const doc = await fetch(`${svc.base}/documents/${id}`, {
          headers: { authorization: `Bearer ${EDITOR_KEY}` },
        });
        const text = await doc.text();
        if (PASSWD.test(text)) passwd.push(m.name);
      }
      done++;
      if (done % 25 === 0 || done === count || only)
        console.error(
          `${done}/${count} in ${Math.round((Date.now() - started) / 1000)} s; ${JSON.stringify(byCode)}; max RSS ${maxRss.toFixed(0)} MB; 5xx ${serverErrors.length}, hangs ${hangs.length}, crashes ${crashes}`,
        );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  // An innocent upload afterwards: a real DOCX, unchanged, and a plain text.
  if (svc.child.exitCode !== null) svc = await startService(dataDir);
  const innocentDocx =
    sources.find((s) => s.file.endsWith('tables.docx')) ?? sources.find((s) => s.kind === 'docx')!;
  const after = [
    await upload(svc.base, 'innocent.docx', innocentDocx.bytes),
    await upload(svc.base, 'innocent.txt', Buffer.from(`Protein keeps you full, innocent run ${seed}.`)),
  ];
  const innocentOk = after.every((a) => a.status === 201 || a.status === 200);
  const health = await fetch(`${svc.base}/health`)
    .then((r) => r.status)
    .catch(() => 0);

  clearInterval(sampler);
  alive = false;
  svc.child.kill('SIGTERM');
  await Promise.race([svc.exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (svc.child.exitCode === null) svc.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });

  const result = {
    files: done,
    complete: done === (only?.length ?? count),
    stoppedByTime,
    seed,
    sources: sources.length,
    mbSent: Math.round(bytesSent / 1024 / 1024),
    seconds: Math.round((Date.now() - started) / 1000),
    byStatus,
    byCode,
    byMutation,
    serverErrors: serverErrors.length,
    crashes,
    serviceLost: lost.length,
    hangs: hangs.length,
    hangLimitMs: HANG_MS,
    leaks: leaks.length,
    passwdInStoredText: passwd.length,
    maxRssMb: Math.round(maxRss),
    maxRssDuring: maxRssAt,
    innocentUpload: after.map((a) => `${a.status} ${a.code}`),
    innocentOk,
    healthAfter: health,
    ocr,
    slowest,
    details: {
      lost,
      serverErrors: serverErrors.slice(0, 20),
      hangs: hangs.slice(0, 20),
      leaks: leaks.slice(0, 20),
      passwd,
      crashLog,
    },
  };
  const ok =
    result.complete &&
    serverErrors.length === 0 &&
    lost.length === 0 &&
    crashes === 0 &&
    hangs.length === 0 &&
    leaks.length === 0 &&
    passwd.length === 0 &&
    innocentOk &&
    health === 200;
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exitCode = ok ? 0 : 1;
}

await main();
