import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { runInBackground } from '../../src/infrastructure/sql/background-work.js';
import { PgliteSqlClient } from '../../src/infrastructure/sql/pglite-client.js';
import { sqlState, constraintName } from '../../src/infrastructure/sql/sql-client.js';
import { VectorArray } from '../../src/infrastructure/sql/vector-array.js';

/** The embedded database in its worker thread: the main thread stays free, and every answer is what PGlite gives. */
describe('PGlite in a worker thread', () => {
  let client: PgliteSqlClient;
  beforeAll(async () => (client = await PgliteSqlClient.open()));
  afterAll(() => client.close());

  it('leaves the event loop running while a statement runs', async () => {
    const order: string[] = [];
    let turns = 0;
    let done = false;
    const statement = client.query('SELECT pg_sleep(1)').then(() => {
      order.push('statement');
      done = true;
    });
    setTimeout(() => order.push('timer'), 0);
    while (!done) {
      await nextTurn();
      turns++;
    }
    await statement;
    // On the main thread the statement would hold the loop: the timer would fire after it, and few turns pass.
    expect(order).toEqual(['timer', 'statement']);
    expect(turns).toBeGreaterThan(100);
  });

  it('analyzes with a small sample: its memory stays in the process (statistics target 20, not 100)', async () => {
    await client.exec(
      `CREATE TABLE sampled AS SELECT g AS x FROM generate_series(1, 10000) g; ANALYZE sampled`,
    );
    const { rows } = await client.query<{ buckets: number }>(
      `SELECT array_length(histogram_bounds::text::int[], 1) AS buckets FROM pg_stats WHERE tablename = 'sampled'`,
    );
    // A histogram has target + 1 bounds; the sample ANALYZE reads is 300 × target rows.
    expect(rows).toEqual([{ buckets: 21 }]);
  });

  it('returns the rows, counts and errors that PGlite itself returns', async () => {
    const direct = new PGlite({ extensions: { vector } });
    const setup = `CREATE EXTENSION IF NOT EXISTS vector;
      CREATE TABLE shapes (id int PRIMARY KEY, b bytea, j jsonb, v vector(3), at timestamptz, n numeric, arr text[])`;
    const insert = 'INSERT INTO shapes VALUES ($1, $2, $3, $4, $5, $6, $7)';
    const params = [
      1,
      Buffer.from([1, 2, 3]),
      { a: [1, 'x'] },
      '[1,2,3]',
      new Date('2024-01-02T03:04:05.678Z'),
    ];
    const select = 'SELECT *, 9007199254740993::int8::text AS big, v::text AS vt FROM shapes';
    try {
      await direct.exec(setup);
      await client.exec(setup);
      await direct.query(insert, [...params, '1.5', ['a', null]]);
      expect(await client.query(insert, [...params, '1.5', ['a', null]])).toEqual({ rows: [], rowCount: 1 });
      expect((await client.query(select)).rows).toEqual((await direct.query(select)).rows);
      expect((await client.query(select)).rows[0]).toMatchObject({ b: new Uint8Array([1, 2, 3]), n: '1.5' });
      const vectors = new VectorArray([new Float32Array([0.5, -1, 2])]);
      const { rows } = await client.query<{ v: string }>('SELECT unnest($1::vector[])::text AS v', [vectors]);
      expect(rows).toEqual([{ v: '[0.5,-1,2]' }]);
      const error = await client.query(insert, [...params, '1', []]).catch((e: unknown) => e);
      expect([sqlState(error), constraintName(error)]).toEqual(['23505', 'shapes_pkey']);
      expect((error as Error).message).toMatch(/duplicate key/);
    } finally {
      await direct.close();
    }
  });

  it('commits a transaction when its function resolves and rolls it back when it throws', async () => {
    await client.exec('CREATE TABLE txs (id int)');
    await client.transaction((tx) => tx.query('INSERT INTO txs VALUES (1)'));
    const failed = client.transaction(async (tx) => {
      await tx.query('INSERT INTO txs VALUES (2)');
      throw new Error('changed my mind');
    });
    await expect(failed).rejects.toThrow('changed my mind');
    // A statement outside waits for the open transaction (one session), then sees only what committed.
    const inside = client.transaction(async (tx) => {
      await tx.query('INSERT INTO txs VALUES (3)');
      await nextTurn();
      await tx.query('INSERT INTO txs VALUES (4)');
    });
    const outside = client.query<{ ids: number[] }>('SELECT array_agg(id ORDER BY id) AS ids FROM txs');
    await inside;
    expect((await outside).rows[0]!.ids).toEqual([1, 3, 4]);
  });

  it('delivers notifications to listeners until they unsubscribe', async () => {
    const session = await client.session();
    const got: string[] = [];
    const unsubscribe = await session.listen('worker_test', (payload) => got.push(payload));
    await client.query(`SELECT pg_notify('worker_test', 'one')`);
    await client.transaction((tx) => tx.query(`SELECT pg_notify('worker_test', 'two')`));
    await client.query('SELECT 1'); // a round trip after the notifications: they have been posted by then
    await unsubscribe();
    await client.query(`SELECT pg_notify('worker_test', 'three')`);
    await client.query('SELECT 1');
    expect(got).toEqual(['one', 'two']);
  });
  it("lets a request's next statement go before a background transaction that arrived between its statements", async () => {
    // A bound on the background's wait far beyond the test's length: the order below must come from the gap rule
    // alone, not from how fast this machine runs the first statement (under load it passed the default bound).
    const client = await PgliteSqlClient.open(undefined, '16MB', 600_000);
    try {
      const order: string[] = [];
      await client.query('SELECT 1');
      // The request's second statement starts as soon as its first answers; the projector's step has come meanwhile.
      const request = client.query('SELECT pg_sleep(0.05)').then(async () => {
        const next = client.query('SELECT 2').then(() => order.push('request, second statement'));
        order.push('request, first statement');
        await next;
      });
      const step = runInBackground(() =>
        client.transaction(async (tx) => {
          order.push('background transaction');
          await tx.query('SELECT 3');
        }),
      );
      await Promise.all([request, step]);
      expect(order).toEqual([
        'request, first statement',
        'request, second statement',
        'background transaction',
      ]);
    } finally {
      await client.close();
    }
  });

  it('runs a background transaction even while requests never stop coming', async () => {
    let ran = false;
    let requests = 0;
    // Without a bound on its wait the step would never run, and this loop would not end (the test's timeout).
    const requesting = (async () => {
      while (!ran) {
        await client.query('SELECT pg_sleep(0.005)');
        requests++;
      }
    })();
    await nextTurn();
    const step = runInBackground(() => client.transaction(async () => void (ran = true)));
    await Promise.all([requesting, step]);
    expect(requests).toBeGreaterThan(1); // it did wait for requests first
  });
});
