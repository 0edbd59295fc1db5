/**
 * The DOCX (a zip) mutations: a corrupt or hostile word/document.xml (unclosed, billion laughs, recursive entities,
 * XXE, a zip bomb honest or lying about its size) and hostile archives (a bomb beside the document, tens of thousands
 * of entries, duplicate and `../` names, a nested zip).
 */
import { duplicateChunk, flipBytes, truncate } from './byte-mutations.js';
import { deflateRepeated } from './deflate.js';
import { int, pick, type Rand } from './random.js';
import { zipOf, type Entry } from './zip.js';

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const para = (text: string) => `<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`;

/**
 * DOCX entry-level mutations: the real package with word/document.xml (or its entries) replaced. The key order is
 * part of the seeded choice (`pick` over `Object.keys`), so keep it.
 */
export const DOCX_MUTATIONS: Record<
  string,
  (r: Rand, entries: Array<{ name: string; data: Buffer }>) => Entry[]
> = {
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
