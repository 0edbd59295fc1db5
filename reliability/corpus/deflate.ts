/**
 * Cheap bombs: a raw deflate stream built from one full-flush block per part, repeated, so that a 1 GB entry costs
 * ~1 MB to make (compressing the whole would take the run's time and memory).
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface Packed {
  /** Raw deflate data. */
  data: Buffer;
  crc: number;
  size: number;
  adler: number;
}

/** Raw deflate of `parts`, each repeated: full-flush blocks concatenated, then an empty final block. */
export function deflateRepeated(parts: Array<{ data: Buffer; times: number }>): Packed {
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
export function zlibOf(p: Packed): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(p.adler, 0);
  return Buffer.concat([Buffer.from([0x78, 0xda]), p.data, tail]);
}
