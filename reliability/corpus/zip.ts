/**
 * Zips for the mutator: written by the tests' one zip writer (test/fixtures/extraction/zip.ts), read back by
 * yauzl (a dependency already).
 */
import { deflateRawSync, crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { zip } from '../../test/fixtures/extraction/zip.js';
import type { Packed } from './deflate.js';

export interface Entry {
  name: string;
  data?: Buffer;
  packed?: Packed;
  /** Lie about the uncompressed size (both headers). */
  declaredSize?: number;
}

/** A zip with deflated entries (hostile archives need sizes and names no writer allows). */
export function zipOf(entries: Entry[]): Buffer {
  return zip(
    entries.map((e) => {
      const data = e.data ?? Buffer.alloc(0);
      const packed = e.packed ?? { data: deflateRawSync(data), crc: crc32(data), size: data.length };
      return {
        name: e.name,
        deflated: { compressed: packed.data, crc: packed.crc, size: packed.size },
        declaredSize: e.declaredSize,
      };
    }),
  );
}

/** Every entry of a (real, small) zip, decompressed; yauzl is a dependency already. */
export function unzip(bytes: Buffer): Promise<Array<{ name: string; data: Buffer }>> {
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
