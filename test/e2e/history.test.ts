import { TestClock } from '../support/clock.js';
import { serviceTargets, startService, type TestService, type Who } from '../support/service.js';

const meta = (extra: Record<string, unknown> = {}) => ({
  documentType: 'research',
  tags: ['protein'],
  accessTier: 'free',
  ...extra,
});

describe.each(serviceTargets())('history over HTTP on %s', (kind) => {
  let svc: TestService;
  const upload = async (title: string, content: string, extra = {}, coachId = 'carnivore') => {
    const r = await svc.request('POST', '/documents', {
      json: { coachId, title, content, format: 'markdown', metadata: meta(extra) },
    });
    expect(r.status).toBe(201);
    return r.body as { documentId: string; position: string };
  };
  const get = (path: string, as: Who = 'admin') => svc.request('GET', path, { as });

  // Writes are recorded at this clock's time; `moment()` names an instant after the last write and before the next.
  const clock = new TestClock();
  const moment = () => clock.moment();
  beforeAll(async () => (svc = await startService(kind, { QUERY_CACHE_TTL_SECONDS: '0' }, { clock })));
  afterAll(() => svc?.close());

  it('lists every version with what changed, who, when, why and its position', async () => {
    const { documentId: id } = await upload('Creatine', 'Creatine loading.\nFive grams a day.\n');
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: 'Creatine loading.\nThree grams a day.\n', changeSummary: 'lower dose' },
    });
    await svc.request('POST', `/documents/${id}/rollback`, { json: { toVersion: 1, reason: 'too low' } });
    await svc.request('DELETE', `/documents/${id}`, { as: 'editor' });
    const r = await get(`/documents/${id}/versions`);
    expect(r.status).toBe(200);
    expect(r.body.versions.map((v: { change: string }) => v.change)).toEqual([
      'uploaded',
      'edited',
      'rolled_back',
      'retired',
    ]);
    expect(r.body.versions[1]).toMatchObject({ version: 2, changeSummary: 'lower dose' });
    expect(r.body.versions[2]).toMatchObject({ rolledBackTo: 1, changeSummary: 'too low' });
    // The actor is the key's id: the admin key wrote the first three, the editor key retired it.
    expect(new Set(r.body.versions.slice(0, 3).map((v: { actor: string }) => v.actor)).size).toBe(1);
    expect(r.body.versions[3].actor).not.toBe(r.body.versions[0].actor);
    for (const v of r.body.versions) expect(v.position).toMatch(/^\d+\.\d+$/);
    expect(new Date(r.body.versions[3].at) >= new Date(r.body.versions[0].at)).toBe(true);
  });

  it('diffs any two versions: unified lines, words and the metadata fields that changed', async () => {
    const { documentId: id } = await upload('Sleep', 'Sleep eight hours.\nAvoid caffeine late.\n');
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: 'Sleep nine hours.\nAvoid caffeine late.\n', metadata: { tags: ['sleep'] } },
    });
    await svc.request('PATCH', `/documents/${id}`, { json: { metadata: { author: 'Ana' } } });
    const r = await get(`/documents/${id}/diff?from=1&to=3`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ documentId: id, from: 1, to: 3 });
    expect(r.body.unified).toContain('-Sleep eight hours.');
    expect(r.body.unified).toContain('+Sleep nine hours.');
    expect(r.body.unified).not.toContain('-Avoid caffeine late.');
    const words = r.body.changes.words as Array<{ op: string; text: string }>;
    expect(words.filter((w) => w.op === 'delete').map((w) => w.text.trim())).toEqual(['eight']);
    expect(words.filter((w) => w.op === 'insert').map((w) => w.text.trim())).toEqual(['nine']);
    expect(words.map((w) => (w.op === 'delete' ? '' : w.text)).join('')).toBe(
      'Sleep nine hours.\nAvoid caffeine late.\n',
    );
    expect(r.body.changes.metadata).toEqual([
      { field: 'author', from: null, to: 'Ana' },
      { field: 'tags', from: ['protein'], to: ['sleep'] },
    ]);
    // Backwards works too; an unknown version is a 404 with its code; a bad parameter a 400.
    expect((await get(`/documents/${id}/diff?from=3&to=1`)).body.unified).toContain('+Sleep eight hours.');
    expect(await get(`/documents/${id}/diff?from=1&to=9`)).toMatchObject({
      status: 404,
      body: { code: 'VERSION_NOT_FOUND' },
    });
    expect(await get(`/documents/${id}/diff?from=one&to=2`)).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
  });

  it('reads a document as it was at any moment (asOf), and 404 before it existed', async () => {
    const before = moment();
    const { documentId: id } = await upload('Iron', 'Iron version one.');
    const afterOne = moment();
    await svc.request('PATCH', `/documents/${id}`, { json: { content: 'Iron version two.' } });
    const afterTwo = moment();
    await svc.request('DELETE', `/documents/${id}`);
    expect((await get(`/documents/${id}?asOf=${afterOne}`)).body).toMatchObject({
      version: 1,
      content: 'Iron version one.',
      status: 'active',
    });
    expect((await get(`/documents/${id}?asOf=${afterTwo}`)).body).toMatchObject({
      version: 2,
      content: 'Iron version two.',
    });
    expect((await get(`/documents/${id}`)).body).toMatchObject({ version: 3, status: 'retired' });
    expect((await get(`/documents/${id}?asOf=${before}`)).body.code).toBe('NOT_FOUND');
    expect(await get(`/documents/${id}?asOf=yesterday`)).toMatchObject({ status: 400 });
    expect(await get(`/documents/${id}?asOf=${afterOne}&version=1`)).toMatchObject({ status: 400 });
  });

  it('hides premium versions and premium documents from a free reader in history, diff and changelog', async () => {
    const { documentId: id } = await upload('Keto', 'Premium text first.', { accessTier: 'premium' });
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: 'Now free text.', metadata: { accessTier: 'free' } },
    });
    const premium = await upload('Secret', 'Premium only.', { accessTier: 'premium' });
    expect(
      (await get(`/documents/${id}/versions`, 'freeReader')).body.versions.map(
        (v: { version: number }) => v.version,
      ),
    ).toEqual([2]);
    expect((await get(`/documents/${id}?version=1`, 'freeReader')).status).toBe(404);
    expect((await get(`/documents/${id}/diff?from=1&to=2`, 'freeReader')).status).toBe(404);
    expect((await get(`/documents/${id}/diff?from=1&to=2`, 'premiumReader')).status).toBe(200);
    expect((await get(`/documents/${premium.documentId}/versions`, 'freeReader')).status).toBe(404);
    const log = await get(`/changelog?coachId=carnivore&limit=1000`, 'freeReader');
    const seen = log.body.entries.map(
      (e: { documentId: string; version: number }) => `${e.documentId}:${e.version}`,
    );
    expect(seen).toContain(`${id}:2`);
    expect(seen).not.toContain(`${id}:1`);
    expect(seen.some((s: string) => s.startsWith(premium.documentId))).toBe(false);
    expect((await get(`/changelog?coachId=vegan`, 'freeReader')).status).toBe(403);
  });

  it('pages the changelog in the global order with filters, and an erasure keeps who, when and why', async () => {
    const a = await upload('Log A', 'Alpha.', {}, 'logcoach');
    const b = await upload('Log B', 'Beta.', {}, 'logcoach');
    await svc.request('PATCH', `/documents/${a.documentId}`, { json: { content: 'Alpha two.' } });
    await svc.request('POST', `/documents/${b.documentId}/erase`, { json: { reason: 'GDPR request 7' } });
    // The changelog shows a change once every transaction older than it has ended (so that a reader paging with
    // `next` never passes a late commit): a projector batch that began before the erasure can hold it back for
    // a moment. So: until the erasure shows, for at most 10 s.
    const types = (page: { body: { entries: Array<{ type: string }> } }) =>
      page.body.entries.map((e) => e.type);
    let all = await get('/changelog?coachId=logcoach');
    for (const until = Date.now() + 10_000; !types(all).includes('erased') && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
      all = await get('/changelog?coachId=logcoach');
    }
    expect(types(all)).toEqual(['uploaded', 'uploaded', 'edited', 'erased']);
    expect(all.body.entries[3]).toMatchObject({ documentId: b.documentId, summary: 'GDPR request 7' });
    const pages: string[] = [];
    for (let after = ''; ;) {
      const page = await get(`/changelog?coachId=logcoach&limit=1${after ? `&after=${after}` : ''}`);
      if (page.body.entries.length === 0) break;
      pages.push(page.body.entries[0].position);
      after = page.body.next;
    }
    expect(pages).toEqual(all.body.entries.map((e: { position: string }) => e.position));
    const edits = await get(`/changelog?coachId=logcoach&types=edited,erased`);
    expect(edits.body.entries.map((e: { type: string }) => e.type)).toEqual(['edited', 'erased']);
    const one = await get(`/changelog?documentId=${a.documentId}`);
    expect(one.body.entries).toHaveLength(2);
    expect((await get('/changelog?types=deleted')).status).toBe(400);
    expect((await get('/changelog?after=nonsense')).status).toBe(400);
  });

  it('streams the changelog as server-sent events, resumable with Last-Event-ID', async () => {
    const first = await upload('Stream A', 'One.', {}, 'streamcoach');
    // `whenOpen` runs once the first entry has arrived, so the stream is known to be open by then.
    const read = async (headers: Record<string, string>, want: number, whenOpen?: () => Promise<void>) => {
      const controller = new AbortController();
      const res = await fetch(`${svc.base}/changelog/stream?coachId=streamcoach`, {
        headers: { authorization: 'Bearer admin-key-0123456789abcdef', ...headers },
        signal: controller.signal,
      });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const count = () => (text.match(/^id: /gm) ?? []).length;
      while (count() < want) {
        if (whenOpen && count() >= 1) await whenOpen().then(() => (whenOpen = undefined));
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      controller.abort();
      return [...text.matchAll(/^id: (\S+)\nevent: change\ndata: (.*)$/gm)].map((m) => ({
        id: m[1]!,
        entry: JSON.parse(m[2]!),
      }));
    };
    let second = { documentId: '' };
    const got = await read({}, 2, async () => {
      second = await upload('Stream B', 'Two.', {}, 'streamcoach'); // arrives while the stream is open
    });
    expect(got.map((g) => g.entry.documentId)).toEqual([first.documentId, second.documentId]);
    expect(got.map((g) => g.id)).toEqual(got.map((g) => g.entry.position));
    await svc.request('PATCH', `/documents/${first.documentId}`, { json: { content: 'One again.' } });
    const resumed = await read({ 'last-event-id': got[1]!.id }, 1);
    expect(resumed.map((g) => g.entry.type)).toEqual(['edited']);
    const refused = await fetch(`${svc.base}/changelog/stream?coachId=vegan`, {
      headers: { authorization: 'Bearer reader-free-carnivore-01234' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('restores a coach to a moment: rollbacks, retirements, revivals; dry run first; twice changes nothing', async () => {
    const coachId = 'restorecoach';
    const kept = await upload('Kept', 'Kept as is.', {}, coachId);
    const edited = await upload('Edited', 'Original words.', {}, coachId);
    const retired = await upload('Retired later', 'Was active.', {}, coachId);
    const gone = await upload('Erased later', 'Secret words.', {}, coachId);
    const asOf = moment();
    await svc.request('PATCH', `/documents/${edited.documentId}`, { json: { content: 'New words.' } });
    await svc.request('DELETE', `/documents/${retired.documentId}`);
    await svc.request('POST', `/documents/${gone.documentId}/erase`, { json: { reason: 'asked' } });
    const created = await upload('Created later', 'Did not exist then.', {}, coachId);

    const before = await svc.countEvents();
    const dry = await svc.request('POST', `/coaches/${coachId}/restore`, { json: { asOf, dryRun: true } });
    expect(dry.status).toBe(200);
    expect(await svc.countEvents()).toBe(before);
    const plan = Object.fromEntries(
      dry.body.changes.map((c: { documentId: string; action: string }) => [c.documentId, c.action]),
    );
    expect(plan).toEqual({
      [edited.documentId]: 'rollback',
      [retired.documentId]: 'rollback',
      [created.documentId]: 'retire',
    });
    expect(dry.body).toMatchObject({ unchanged: 1, erased: [gone.documentId], failed: [] });

    const done = await svc.request('POST', `/coaches/${coachId}/restore`, { json: { asOf } });
    expect(done.body.changes).toHaveLength(3);
    expect(await svc.countEvents()).toBe(before + 3);
    expect((await get(`/documents/${edited.documentId}`)).body).toMatchObject({ content: 'Original words.' });
    expect((await get(`/documents/${retired.documentId}`)).body.status).toBe('active');
    expect((await get(`/documents/${created.documentId}`)).body.status).toBe('retired');
    expect((await get(`/documents/${gone.documentId}`)).status).toBe(410);
    expect((await get(`/documents/${kept.documentId}`)).body.version).toBe(1);

    const again = await svc.request('POST', `/coaches/${coachId}/restore`, { json: { asOf } });
    expect(again.body).toMatchObject({ changes: [], unchanged: 4, failed: [] });
    expect(await svc.countEvents()).toBe(before + 3);
    expect(
      (await svc.request('POST', `/coaches/${coachId}/restore`, { json: { asOf }, as: 'editor' })).status,
    ).toBe(403);
    expect(
      (await svc.request('POST', `/coaches/${coachId}/restore`, { json: { asOf: 'then' } })).status,
    ).toBe(400);
  });

  it('rebuilds a projection on request (202) and it comes back with the same rows', async () => {
    // Its own history, so that the test means the same run alone or after the others: a current document, past
    // versions (an edit, a retirement) and an erasure, with chunks, term statistics and the embedding cache.
    const { documentId: id } = await upload('Rebuild me', '# Rebuild\n\nSome protein text to index.');
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: '# Rebuild\n\nProtein text, edited.' },
    });
    await upload('Rebuild kept', 'Protein words that stay current.');
    const gone = await upload('Rebuild gone', 'Protein words erased later.');
    await svc.request('POST', `/documents/${gone.documentId}/erase`, { json: { reason: 'asked' } });
    const { position } = (await svc.request('DELETE', `/documents/${id}`)).body as { position: string };
    await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'protein', minPosition: position },
    });
    // Every row of every table the chunks projection keeps, every column but the row id (a sequence) and the
    // cache's creation time: chunks with their validity, vectors and tsvectors, the BM25 statistics, the cache.
    const digest = async () =>
      (
        await svc.db.client.query<{ d: string; chunks: number; past: number; lexemes: number }>(
          `SELECT md5(concat_ws('|',
             (SELECT string_agg((to_jsonb(c) - 'id')::text, ',' ORDER BY space, chunker, document_id, version, chunk_index)
              FROM chunks c),
             (SELECT string_agg(to_jsonb(l)::text, ',' ORDER BY space, chunker, coach_id, lexeme, access_tier)
              FROM chunk_lexemes l),
             (SELECT string_agg(to_jsonb(s)::text, ',' ORDER BY space, chunker, coach_id, access_tier) FROM chunk_stats s),
             (SELECT string_agg((to_jsonb(e) - 'created_at')::text, ',' ORDER BY space, text_sha256)
              FROM embedding_cache e))) AS d,
             (SELECT count(*)::int FROM chunks) AS chunks, (SELECT count(*)::int FROM chunks WHERE NOT is_current) AS past,
             (SELECT count(*)::int FROM chunk_lexemes) AS lexemes`,
        )
      ).rows[0]!;
    const live = await digest();
    expect(Math.min(live.chunks, live.past, live.lexemes)).toBeGreaterThan(0);
    const chunksStatus = async () =>
      (await get('/admin/projections')).body.find((p: { name: string }) => p.name === 'chunks') as {
        rebuilds: number;
        rebuildRequested: boolean;
        status: string;
        lag: number;
        position: string | null;
      };
    const rebuildsBefore = (await chunksStatus()).rebuilds;
    const r = await svc.request('POST', '/admin/projections/chunks/rebuild');
    expect(r).toMatchObject({ status: 202, body: { name: 'chunks', status: 'rebuild_requested' } });
    // Follow it until done (bounded): this rebuild started, nothing is asked for, live again, at the head.
    const done = (s: Awaited<ReturnType<typeof chunksStatus>>) =>
      s.rebuilds > rebuildsBefore && !s.rebuildRequested && s.status === 'live' && s.lag === 0;
    let after = await chunksStatus();
    for (const until = Date.now() + 60_000; !done(after) && Date.now() < until; after = await chunksStatus())
      await new Promise((resolve) => setTimeout(resolve, 50));
    const head = (await get('/admin/projections')).body.find((p: { name: string }) => p.name === 'documents');
    expect(after).toMatchObject({
      rebuilds: rebuildsBefore + 1,
      rebuildRequested: false,
      status: 'live',
      lag: 0,
    });
    expect(after.position).toBe(head.position);
    expect(await digest()).toEqual(live);
    expect((await svc.request('POST', '/admin/projections/nothing/rebuild')).body.code).toBe('NOT_FOUND');
    expect((await svc.request('POST', '/admin/projections/chunks/rebuild', { as: 'editor' })).status).toBe(
      403,
    );
  }, 90_000);
});
