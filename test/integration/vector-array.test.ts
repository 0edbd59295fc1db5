import { VectorArray, vectorText } from '../../src/infrastructure/sql/vector-array.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

describe.each(targets())('a vector[] parameter on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(() => db.drop());

  // Values whose text forms are long or awkward: the subnormal-adjacent, the largest float32, negative zero.
  const awkward = Float32Array.from([1 / 3, -2.5e-38, 3.4028235e38, -0, 1e-45, 0.1, -7]);
  const vectors = [
    awkward,
    Float32Array.from([1, 2]),
    Float32Array.from({ length: 512 }, (_, i) => Math.sin(i)),
  ];

  it('arrives bit for bit, in order, with each element its own dimensions', async () => {
    const { rows } = await db.client.query<{ i: number; dims: number; text: string }>(
      `SELECT i::int, vector_dims(v) AS dims, v::text AS text FROM unnest($1::vector[]) WITH ORDINALITY AS u(v, i)
       ORDER BY i`,
      [new VectorArray(vectors)],
    );
    expect(rows.map((r) => r.dims)).toEqual(vectors.map((v) => v.length));
    // The server's text form parsed back into float32 equals what was sent (-0 stored as 0, as the text form does).
    const back = rows.map((r) => [...Float32Array.from(JSON.parse(r.text) as number[])]);
    expect(back).toEqual(vectors.map((v) => [...v].map((x) => (x === 0 ? 0 : x))));
    // And the same vectors sent as text are stored identically.
    expect(rows.map((r) => r.text)).toEqual(
      (
        await db.client.query<{ text: string }>(
          `SELECT v::text AS text FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i), LATERAL (SELECT t::vector AS v) x
           ORDER BY i`,
          [vectors.map(vectorText)],
        )
      ).rows.map((r) => r.text),
    );
  });

  it('can be empty', async () => {
    const { rows } = await db.client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM unnest($1::vector[])',
      [new VectorArray([])],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('is refused, like the text form, when an element is not finite', async () => {
    await expect(
      db.client.query('SELECT count(*) FROM unnest($1::vector[])', [
        new VectorArray([Float32Array.from([1, NaN])]),
      ]),
    ).rejects.toThrow(/NaN not allowed in vector/);
  });

  it('works inside a transaction, and again after the first use cached the type', async () => {
    const n = await db.client.transaction(async (tx) => {
      const first = await tx.query<{ n: number }>('SELECT cardinality($1::vector[]) AS n', [
        new VectorArray(vectors),
      ]);
      const again = await tx.query<{ n: number }>('SELECT cardinality($1::vector[]) AS n', [
        new VectorArray([awkward]),
      ]);
      return [first.rows[0]!.n, again.rows[0]!.n];
    });
    expect(n).toEqual([3, 1]);
  });
});
