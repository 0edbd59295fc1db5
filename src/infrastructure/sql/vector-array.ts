/**
 * A `vector[]` query parameter (pgvector), written `$n::vector[]` in the query text. The `pg` adapter sends it
 * in PostgreSQL's binary format: no float is turned into text by Node or parsed back by the server (as text,
 * ~0.15 ms of Node's CPU per 512-dimension vector, and most of what the server parsed when chunks were written).
 * PGlite takes it as an array literal of pgvector's text form.
 */
export class VectorArray {
  constructor(readonly vectors: readonly Float32Array[]) {}

  /** array_recv's format: ndim, has-nulls, element type, (length, lower bound) per dimension, then the elements
   * (length, then vector_recv's format: int16 dimensions, int16 unused, float4 each, all big-endian). */
  binary(elementOid: number): Buffer {
    const { vectors } = this;
    if (vectors.length === 0) return header(Buffer.alloc(12), 0, elementOid);
    let size = 20;
    for (const v of vectors) size += 8 + 4 * v.length;
    const out = header(Buffer.allocUnsafe(size), 1, elementOid);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    view.setInt32(12, vectors.length);
    view.setInt32(16, 1);
    let at = 20;
    for (const v of vectors) {
      view.setInt32(at, 4 + 4 * v.length);
      view.setInt16(at + 4, v.length);
      view.setInt16(at + 6, 0);
      at += 8;
      // -0 goes as 0, as in the text form: both paths store the same vector.
      for (let i = 0; i < v.length; i++, at += 4) view.setFloat32(at, v[i] === 0 ? 0 : v[i]!);
    }
    return out;
  }

  /** `{"[1,2]","[3,4]"}`: pgvector's text form needs quoting inside an array literal (commas). */
  text(): string {
    return `{${this.vectors.map((v) => `"${vectorText(v)}"`).join(',')}}`;
  }
}

function header(out: Buffer, ndim: number, elementOid: number): Buffer {
  out.writeInt32BE(ndim, 0);
  out.writeInt32BE(0, 4);
  out.writeUInt32BE(elementOid, 8);
  return out;
}

/**
 * A vector as pgvector's text form (`[1,2,3]`). Nine significant digits are exactly enough for a float32 to
 * come back bit for bit; pgvector-node's `toSql` prints the float64 expansion (17 digits), which nearly doubles
 * what PostgreSQL must parse.
 */
export function vectorText(v: Float32Array): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + (v[i] === 0 ? '0' : v[i]!.toPrecision(9));
  return out + ']';
}
