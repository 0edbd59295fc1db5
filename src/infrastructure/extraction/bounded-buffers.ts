/**
 * A cap on each binary buffer the extraction worker allocates. The worker's heap limit does not cover
 * ArrayBuffers, and parsers keep decoded data in them: pdf.js inflates a stream into a buffer it doubles as it
 * fills, so a Flate bomb asks for 256 MB, then 512 MB, then 1 GB while still holding the previous one, faster
 * than any watch on the process's memory can see. Refusing one allocation above the cap ends that growth
 * before it happens; the RSS watch (worker-extractor.ts) still bounds the sum of many smaller ones.
 *
 * Installed in the worker thread only (its globals are its own), before any parser is loaded: the constructors
 * are replaced by proxies that check the size asked for, so `instanceof`, statics and subclasses behave as
 * before and every array made is an ordinary one.
 */

const CONSTRUCTORS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

export class BufferLimitExceeded extends RangeError {
  constructor(
    readonly requestedBytes: number,
    readonly maxBytes: number,
  ) {
    super(`a buffer of ${requestedBytes} bytes exceeds the extraction's limit of ${maxBytes} bytes`);
    this.name = 'BufferLimitExceeded';
  }
}

/**
 * Replaces this thread's buffer constructors with ones that refuse a buffer above `maxBytes`: `refused` is
 * called with the size asked for (a parser may swallow the error thrown; the worker answers from `refused`).
 */
export function boundBuffers(
  maxBytes: number,
  refused: (requestedBytes: number) => void,
  scope: Record<string, unknown> = globalThis,
): void {
  for (const name of CONSTRUCTORS) {
    const original = scope[name] as (new (...args: unknown[]) => object) & { BYTES_PER_ELEMENT?: number };
    if (typeof original !== 'function') continue;
    const bytesPer = original.BYTES_PER_ELEMENT ?? 1;
    scope[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        // Only a length allocates from nothing; a copy of an array or a view of a buffer sizes from memory
        // that already exists.
        const requested = typeof args[0] === 'number' ? args[0] * bytesPer : 0;
        if (requested > maxBytes) {
          refused(requested);
          throw new BufferLimitExceeded(requested, maxBytes);
        }
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  }
}
