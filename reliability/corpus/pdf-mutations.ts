/**
 * The PDF mutations, each an incremental update appended to the real file (to a minimal PDF when the file has no
 * trailer to chain to): a Flate bomb, a page-tree loop, JavaScript actions and a huge object count.
 */
import { minimalPdf } from '../../test/support/pdf.js';
import { deflateRepeated, zlibOf } from './deflate.js';
import { int, pick, type Rand } from './random.js';

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

/** By name; the key order is part of the seeded choice (`pick` over `Object.keys`), so keep it. */
export const PDF_MUTATIONS: Record<string, (r: Rand, base: Buffer) => Buffer> = {
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
