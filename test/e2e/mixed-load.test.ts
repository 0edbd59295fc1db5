import { comparePositions, parsePosition } from '../../src/infrastructure/event-store/position.js';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine.js';
import { mixedLoad, type Ack, type MixedResult } from '../../reliability/support/mixed-load.js';
import { verifyWrites, type UploadScope } from '../../reliability/support/verify-writes.js';
import { targets } from '../support/databases.js';
import { KEYS, startService, type TestService } from '../support/service.js';

/**
 * The short version of reliability/load.ts's mixed load: 80 operations (uploads, edits with If-Match, searches;
 * about half writes), 8 at a time, against the service in-process; then, once the projectors have caught up,
 * every acknowledged write is checked in the database itself: in the event log exactly once (stream, version,
 * position, type), no event in those streams nobody acknowledged, no upload of the coach since the run began
 * beyond those acknowledged, the read model at the last acknowledged version, the current chunks of that version
 * only and never two for one (document, version, chunk index). The last case shows each check finds what it names.
 */
describe.each(targets())('mixed load on %s', (kind) => {
  let svc: TestService;
  let run: MixedResult;
  let scope: UploadScope;
  beforeAll(async () => {
    svc = await startService(kind);
    run = await mixedLoad({
      base: svc.base,
      coachId: 'carnivore',
      editorKey: KEYS.editor,
      searchKeys: [KEYS.premiumReader, KEYS.freeReader],
      concurrency: 8,
      operations: 80,
      mix: { upload: 0.25, edit: 0.25, search: 0.5 },
    });
    scope = { coachId: 'carnivore', startedAt: run.startedAt, uncertainUploads: run.uncertainUploads };
    const last = run.acks
      .map((a) => a.position)
      .reduce((a, b) => (comparePositions(parsePosition(b), parsePosition(a)) > 0 ? b : a));
    if (!(await svc.app.get(ProjectionEngine).waitUntilCaughtUp({ position: last, timeoutMs: 120_000 })))
      throw new Error('the projectors did not catch up');
    // A guard against a hang (the start, 80 requests and the projection), not a speed check: a busy machine is slow.
  }, 180_000);
  afterAll(() => svc?.close());

  it('answers every upload, edit and search as expected under concurrency', () => {
    expect(run.failures).toEqual([]);
    expect(run.acks.filter((a) => a.kind === 'upload').length).toBeGreaterThan(5);
    expect(run.acks.filter((a) => a.kind === 'edit').length).toBeGreaterThan(5);
    expect(run.searches).toBeGreaterThan(10);
  });

  it('has every acknowledged write in the log once, the read model at its last version, no duplicate chunk', async () => {
    const v = await verifyWrites(svc.db.client, run.acks, run.uncertain, scope);
    expect(v.details).toEqual([]);
    expect(v).toMatchObject({
      lost: 0,
      duplicated: 0,
      readModelWrong: 0,
      duplicateChunks: 0,
      chunksWrong: 0,
    });
    expect(v.acknowledged).toBe(run.acks.length);
  });

  // The checks themselves: each finds what it names when the database and the acknowledgements disagree.
  it('finds a lost write, an unacknowledged event or document, a stale read model and a duplicated chunk', async () => {
    const edited = run.acks.find((a) => a.kind === 'edit')!;
    const lastOf = (id: string) =>
      run.acks.filter((a) => a.documentId === id).reduce((a, b) => (b.version > a.version ? b : a));
    // An acknowledgement the log has not: version one past the last of its document.
    const last = lastOf(edited.documentId);
    const missing: Ack = { ...last, version: last.version + 1, marker: 'mkmissing' };
    const lost = await verifyWrites(svc.db.client, [...run.acks, missing]);
    expect({ lost: lost.lost, readModelWrong: lost.readModelWrong }).toEqual({ lost: 1, readModelWrong: 1 });
    // An event in the log nobody acknowledged: the edit's acknowledgement left out.
    const unacknowledged = await verifyWrites(
      svc.db.client,
      run.acks.filter((a) => a !== edited),
    );
    expect(unacknowledged.duplicated).toBe(1);
    // The same write acknowledged twice.
    const twice = await verifyWrites(svc.db.client, [...run.acks, edited]);
    expect(twice.duplicated).toBe(1);
    // A document in the log nobody was told of: an upload never edited, its acknowledgement left out.
    const lone = run.acks.find(
      (a) => a.kind === 'upload' && run.acks.filter((b) => b.documentId === a.documentId).length === 1,
    )!;
    const untold = await verifyWrites(
      svc.db.client,
      run.acks.filter((a) => a !== lone),
      [],
      scope,
    );
    expect({ duplicated: untold.duplicated, unacknowledgedUploads: untold.unacknowledgedUploads }).toEqual({
      duplicated: 1,
      unacknowledgedUploads: 1,
    });
    // A second current copy of a chunk (another embedding space: the unique key allows it, the check does not).
    await svc.db.client.query(
      `INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
         end_char, section, page, access_tier, document_type, tags, publication_date, metadata, embedded_sha256,
         valid_from, valid_from_at, valid_to, valid_to_at, is_current, embedding)
       SELECT space || '-copy', chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
         end_char, section, page, access_tier, document_type, tags, publication_date, metadata, embedded_sha256,
         valid_from, valid_from_at, valid_to, valid_to_at, is_current, embedding
       FROM chunks WHERE is_current AND document_id = $1 AND version = $2 AND chunk_index = 0`,
      [last.documentId, last.version],
    );
    const copied = await verifyWrites(svc.db.client, run.acks);
    expect(copied.duplicateChunks).toBe(1);
  });
});
