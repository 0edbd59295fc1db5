import { BufferLimitExceeded, boundBuffers } from '../../src/infrastructure/extraction/bounded-buffers.js';

/** A scope of its own, so that the test's globals stay as they are. */
function boundScope(maxBytes: number) {
  const scope: Record<string, unknown> = {
    ArrayBuffer,
    Uint8Array,
    Float64Array,
    Int32Array,
  };
  const refused: number[] = [];
  boundBuffers(maxBytes, (requested) => refused.push(requested), scope);
  return {
    refused,
    ArrayBuffer: scope.ArrayBuffer as typeof ArrayBuffer,
    Uint8Array: scope.Uint8Array as typeof Uint8Array,
    Float64Array: scope.Float64Array as typeof Float64Array,
    Int32Array: scope.Int32Array as typeof Int32Array,
  };
}

describe('bounded buffers (the extraction worker refuses one buffer above its share of memory)', () => {
  it('refuses a buffer above the limit, in bytes whatever the element size, and reports its size', () => {
    const s = boundScope(1024);
    expect(() => new s.Uint8Array(1025)).toThrow(BufferLimitExceeded);
    expect(() => new s.Float64Array(129)).toThrow(/1032 bytes exceeds the extraction's limit of 1024 bytes/);
    expect(() => new s.ArrayBuffer(4096)).toThrow(BufferLimitExceeded);
    expect(s.refused).toEqual([1025, 1032, 4096]);
  });

  it('makes buffers up to the limit as before: ordinary arrays, instanceof and statics unchanged', () => {
    const s = boundScope(1024);
    const bytes = new s.Uint8Array(1024);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from('x')).toBeInstanceOf(s.Uint8Array);
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(new s.Float64Array(128).byteLength).toBe(1024);
    expect(s.Int32Array.BYTES_PER_ELEMENT).toBe(4);
    expect(Array.from(s.Uint8Array.from([1, 2, 3]))).toEqual([1, 2, 3]);
    expect(s.refused).toEqual([]);
  });

  it('lets copies and views of existing memory through (they do not allocate from a size asked for)', () => {
    const s = boundScope(16);
    const existing = new ArrayBuffer(64);
    expect(new s.Uint8Array(existing).length).toBe(64);
    expect(new s.Uint8Array(existing, 8, 32).length).toBe(32);
    expect(new s.Uint8Array(new Uint8Array(64)).length).toBe(64);
    expect(s.refused).toEqual([]);
  });

  it('bounds subclasses made from the bounded constructor', () => {
    const s = boundScope(1024);
    class Pixels extends s.Uint8Array {}
    expect(new Pixels(8)).toBeInstanceOf(Pixels);
    expect(() => new Pixels(2048)).toThrow(BufferLimitExceeded);
    expect(s.refused).toEqual([2048]);
  });
});
