import { randomUUID } from 'node:crypto';
import { targets } from '../support/databases.js';
import { maintenanceService, task, text, type MaintenanceHarness } from '../support/maintenance.js';

type Json = Record<string, unknown>;

describe.each(targets())('maintenance work on %s', (kind) => {
  let h: MaintenanceHarness;
  beforeAll(async () => (h = await maintenanceService(kind)));
  afterAll(() => h?.svc.close());

  it('finds nothing on a consistent store; removes expired cache rows, an orphan file and what an erasure left, then finds nothing again', async () => {
    const kept = await h.upload('Kept liver guide');
    const erased = await h.uploadFile('erased-notes.txt', text('Erased kidney notes'));
    await h.write('POST', `/documents/${erased}/erase`, { json: { reason: 'withdrawn' } });
    // At once, whether or not the projector has got there: what it has not applied yet is no difference.
    expect(task(await h.run(), 'consistency').details).toMatchObject({ differencesTotal: 0 });
    await h.caughtUp();
    const clean = await h.run();
    expect(task(clean, 'consistency').details).toMatchObject({ differencesTotal: 0, documentsRepaired: 0 });
    expect(task(clean, 'consistency').details.chunkVersions).toBe(1); // the kept document's one version

    // Work for the next run: cached results that expired, a file nobody refers to, and an erasure's leftovers
    // (its key, its URL source, a chunk) as if the erasure had been cut short; and a row of a document with no events.
    await h.sql().query(
      `INSERT INTO rag_query_cache (cache_key, coach_id, results, expires_at)
       VALUES ('expired-1', 'carnivore', '[]', now() - interval '1 minute'),
              ('expired-2', 'carnivore', '[]', now() - interval '1 hour')`,
    );
    await h
      .sql()
      .query(
        `INSERT INTO files (sha256, content_type, size, bytes) VALUES ($1, 'text/plain', 6, 'orphan'::bytea)`,
        ['0'.repeat(64)],
      );
    await h.sql().query(`INSERT INTO document_keys (document_id, key) VALUES ($1, '\\x00'::bytea)`, [erased]);
    await h.sql().query(
      `INSERT INTO url_sources (document_id, coach_id, url, refresh_interval_days, created_at, next_refresh_at)
       VALUES ($1, 'carnivore', 'https://example.org/erased', 30, now(), now())`,
      [erased],
    );
    await h.sql().query(
      `INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
         end_char, access_tier, document_type, tags, metadata, embedded_sha256, valid_from, valid_from_at, is_current,
         embedding)
       SELECT space, chunker, $2, coach_id, version, chunk_index, title, content, start_char, end_char, access_tier,
         document_type, tags, metadata, embedded_sha256, valid_from, valid_from_at, is_current, embedding
       FROM chunks WHERE document_id = $1 AND chunk_index = 0 AND is_current`,
      [kept, erased],
    );
    const ghost = randomUUID();
    await h.sql().query(
      `INSERT INTO documents (document_id, coach_id, status, version, created_at, created_by, updated_at, updated_by, position)
       VALUES ($1, 'carnivore', 'active', 1, now(), 'nobody', now(), 'nobody', '1.1')`,
      [ghost],
    );

    const work = await h.run();
    expect(task(work, 'query-cache')).toMatchObject({ status: 'succeeded', rows: 2 });
    const orphans = task(work, 'orphans');
    expect(orphans.details).toMatchObject({
      erasedDocuments: { documentKeys: { rows: 1 }, urlSources: { rows: 1 }, chunks: { rows: 1 } },
      withoutEvents: { documents: [ghost] },
    });
    expect(orphans.rows).toBe(4); // the key, the source, the chunk, the document's row
    expect(task(work, 'orphan-files')).toMatchObject({ rows: 1, bytes: 6 });
    expect(await h.count(`files WHERE sha256 = $1`, ['0'.repeat(64)])).toBe(0);
    expect(await h.count(`document_keys WHERE document_id = $1`, [erased])).toBe(0);
    expect(await h.count(`chunks WHERE document_id = $1`, [erased])).toBe(0);
    expect(await h.count(`documents WHERE document_id = $1`, [ghost])).toBe(0);
    expect(await h.count(`chunks WHERE document_id = $1`, [kept])).toBeGreaterThan(1);

    const again = await h.run();
    expect(task(again, 'query-cache').rows).toBe(0);
    expect(task(again, 'orphans').rows).toBe(0);
    expect(task(again, 'orphan-files').rows).toBe(0);
    expect(task(again, 'consistency')).toMatchObject({ rows: 0, details: { differencesTotal: 0 } });
    expect(task(again, 'vacuum').status).toBe('succeeded');
  });

  it('finds read-model rows altered by hand, reports each field, and repairs them from the events', async () => {
    const id = await h.upload('Heart guide');
    await h.write('PATCH', `/documents/${id}`, {
      json: { content: text('Heart guide, revised', 5), changeSummary: 'more on copper' },
    });
    await h.caughtUp();
    expect(task(await h.run(), 'consistency').details).toMatchObject({ differencesTotal: 0 });
    const chunk = `chunks WHERE document_id = $1 AND version = 2 AND chunk_index = 1`;
    const original = (await h.sql().query<{ content: string }>(`SELECT content FROM ${chunk}`, [id]))
      .rows[0]!;

    await h.sql().query(`UPDATE documents SET title = 'Tampered' WHERE document_id = $1`, [id]);
    await h
      .sql()
      .query(
        `UPDATE document_versions SET change_summary = 'tampered' WHERE document_id = $1 AND version = 2`,
        [id],
      );
    await h.sql().query(`DELETE FROM document_versions WHERE document_id = $1 AND version = 1`, [id]);
    await h
      .sql()
      .query(`UPDATE ${chunk.replace('chunks WHERE', 'chunks SET content = $2 WHERE')}`, [
        id,
        'zebra stripes tampered',
      ]);
    await h
      .sql()
      .query(`DELETE FROM chunks WHERE document_id = $1 AND version = 1 AND chunk_index = 0`, [id]);

    const consistency = task(await h.run(), 'consistency');
    const repaired = { documentId: id, repaired: true };
    expect(consistency.details.differences).toEqual(
      expect.arrayContaining([
        { ...repaired, readModel: 'documents', field: 'title' },
        { ...repaired, readModel: 'document_versions', version: 1, field: 'row missing' },
        { ...repaired, readModel: 'document_versions', version: 2, field: 'change_summary' },
        { ...repaired, readModel: 'chunks', version: 1, field: 'count' },
        { ...repaired, readModel: 'chunks', version: 2, field: 'content' },
      ]),
    );
    expect(consistency.details).toMatchObject({ differencesTotal: 5, documentsRepaired: 1 });
    expect(consistency.rows).toBeGreaterThan(0);

    expect((await h.svc.request('GET', `/documents/${id}`)).body.title).toBe('Heart guide');
    const versions = (await h.svc.request('GET', `/documents/${id}/versions`)).body.versions;
    expect(versions.map((v: Json) => [v.version, v.changeSummary ?? null])).toEqual([
      [1, null],
      [2, 'more on copper'],
    ]);
    expect((await h.sql().query(`SELECT content FROM ${chunk}`, [id])).rows).toEqual([original]);
    expect(await h.count(`chunks WHERE document_id = $1 AND version = 1 AND chunk_index = 0`, [id])).toBe(1);
    // The coach's BM25 statistics match its current chunks again (the edit in place had bypassed their triggers).
    expect(
      await h.count(
        `(SELECT lexeme, access_tier, count(*)::int AS df FROM chunks, unnest(tsvector_to_array(tsv)) AS lexeme
          WHERE is_current AND coach_id = 'carnivore' GROUP BY 1, 2) r
         FULL JOIN (SELECT lexeme, access_tier, df FROM chunk_lexemes WHERE coach_id = 'carnivore') l
           USING (lexeme, access_tier) WHERE r.df IS DISTINCT FROM l.df`,
      ),
    ).toBe(0);
    expect(task(await h.run(), 'consistency').details).toMatchObject({ differencesTotal: 0 });
  });
});
