import { checkpoints } from '../../src/infrastructure/projections/checkpoints.js';
import { lockQueryCaches, storeResults } from '../../src/projections/chunks/query-cache.js';
import { counterProjection } from '../support/counter-projection.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

describe.each(targets())('the query cache (rag_query_cache) on %s', (kind) => {
  let db: TestDatabase;
  const projection = counterProjection(7);
  const entry = (key: string, position: string | null) => ({
    key,
    coachId: 'carnivore',
    position,
    results: [],
    ttlSeconds: 60,
  });
  const keys = async () =>
    (
      await db.client.query<{ cache_key: string }>('SELECT cache_key FROM rag_query_cache ORDER BY 1')
    ).rows.map((r) => r.cache_key);

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    await db.client.transaction((tx) => checkpoints.create(tx, projection));
    await db.client.transaction((tx) => checkpoints.advance(tx, projection, '5.1', 1));
  });
  afterAll(() => db?.drop());
  beforeEach(() => db.client.exec('DELETE FROM rag_query_cache'));

  it('stores results computed at the read model position, not results computed at an older one', async () => {
    expect(await storeResults(db.client, projection, entry('now', '5.1'))).toBe(true);
    expect(await storeResults(db.client, projection, entry('stale', '4.9'))).toBe(false);
    expect(await storeResults(db.client, projection, entry('before-anything', null))).toBe(false);
    expect(await keys()).toEqual(['now']);
  });

  it('deletes expired results whenever it stores one', async () => {
    await db.client.query(
      `INSERT INTO rag_query_cache (cache_key, coach_id, position, results, expires_at)
       VALUES ('expired', 'vegan', '1.1', '[]', now() - interval '1 second'),
              ('alive', 'vegan', '1.1', '[]', now() + interval '1 hour')`,
    );
    await storeResults(db.client, projection, entry('new', '5.1'));
    expect(await keys()).toEqual(['alive', 'new']);
  });

  it("stores nothing while an erasure holds the coach's lock, nor after it once the read model moved on", async () => {
    let release!: () => void;
    let locked!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // What the chunks projection does for an erasure: the exclusive lock, the delete, then the checkpoint moves
    // with the batch.
    const erasure = db.client.transaction(async (tx) => {
      await lockQueryCaches(tx, ['carnivore']);
      await tx.exec(`DELETE FROM rag_query_cache WHERE coach_id = 'carnivore'`);
      locked();
      await gate;
      await checkpoints.advance(tx, projection, '6.1', 1);
    });
    await isLocked;
    // Results read before the erasure committed, stored while it is still running. On PostgreSQL the store finds
    // the lock taken and gives up at once. (PGlite runs one transaction at a time: there the store waits for the
    // erasure to commit, and then finds the checkpoint moved.)
    const store = storeResults(db.client, projection, entry('read-before-erasure', '5.1'));
    if (kind === 'postgres') expect(await store).toBe(false);
    release();
    await erasure;
    expect(await store).toBe(false);
    expect(await keys()).toEqual([]);
  });
});
