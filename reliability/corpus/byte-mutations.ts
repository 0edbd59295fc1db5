/** Byte-level mutations, blind to the format: they apply to any file (and to a DOCX's document.xml). */
import { int, type Rand } from './random.js';

export function flipBytes(r: Rand, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const n = int(r, 1, 64);
  for (let i = 0; i < n && out.length > 0; i++) out[int(r, 0, out.length - 1)]! ^= 1 << int(r, 0, 7);
  return out;
}
export function truncate(r: Rand, b: Buffer): Buffer {
  return b.subarray(0, int(r, 0, Math.max(0, b.length - 1)));
}
export function duplicateChunk(r: Rand, b: Buffer): Buffer {
  const start = int(r, 0, Math.max(0, b.length - 1));
  const len = int(r, 1, Math.min(256 * 1024, Math.max(1, b.length - start)));
  const at = int(r, 0, b.length);
  const chunk = b.subarray(start, start + len);
  const times = int(r, 1, 8);
  return Buffer.concat([b.subarray(0, at), ...Array<Buffer>(times).fill(chunk), b.subarray(at)]);
}
export function zeroRange(r: Rand, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const start = int(r, 0, Math.max(0, out.length - 1));
  out.fill(0, start, Math.min(out.length, start + int(r, 1, 64 * 1024)));
  return out;
}
/** By name; the key order is part of the seeded choice (`pick` over `Object.keys`), so keep it. */
export const BYTE_MUTATIONS = { flipBytes, truncate, duplicateChunk, zeroRange } as const;
