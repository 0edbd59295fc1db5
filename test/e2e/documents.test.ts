import { serviceTargets, startService, type TestService } from '../support/service.js';

const meta = (extra: Record<string, unknown> = {}) => ({
  documentType: 'research',
  tags: ['protein'],
  accessTier: 'free',
  ...extra,
});
const jsonDoc = (content: string, extra: Record<string, unknown> = {}) => ({
  coachId: 'carnivore',
  title: 'Protein and satiety',
  content,
  metadata: meta(extra),
});
const fileForm = (
  bytes: Buffer | string,
  filename: string,
  metadata: Record<string, unknown> = meta(),
  coachId = 'carnivore',
) => {
  const form = new FormData();
  form.set('coachId', coachId);
  form.set('metadata', JSON.stringify(metadata));
  form.set('file', new Blob([bytes]), filename);
  return form;
};

describe.each(serviceTargets())('documents over HTTP on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind)));
  afterAll(() => svc?.close());

  it('uploads JSON text, reads it back at once, and answers a repeat upload as a duplicate', async () => {
    const created = await svc.request('POST', '/documents', {
      json: jsonDoc('High-protein meals keep people full longer.'),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      documentId: expect.any(String),
      version: 1,
      position: expect.any(String),
      sourceId: expect.any(String),
    });
    const read = await svc.request('GET', `/documents/${created.body.documentId}`);
    expect(read.body).toMatchObject({
      title: 'Protein and satiety',
      content: 'High-protein meals keep people full longer.',
      version: 1,
      status: 'active',
      coachId: 'carnivore',
    });
    expect(read.body.metadata).toMatchObject({
      documentType: 'research',
      tags: ['protein'],
      accessTier: 'free',
    });
    const events = await svc.countEvents();
    const again = await svc.request('POST', '/documents', {
      json: jsonDoc('High-protein meals keep people full longer.'),
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      documentId: created.body.documentId,
      version: 1,
      position: created.body.position,
      changed: false,
      duplicate: true,
    });
    expect(await svc.countEvents()).toBe(events);
  });

  it('uploads a Markdown file (type from the bytes), keeps the original bytes and serves them back', async () => {
    const md = '# Carnivore protocol\n\nEat meat.\n\n## Week 1\n\nBeef and water.\n';
    const created = await svc.request('POST', '/documents', {
      form: fileForm(md, 'protocol.md', meta({ documentType: 'protocol' })),
    });
    expect(created.status).toBe(201);
    const read = await svc.request('GET', `/documents/${created.body.documentId}`);
    expect(read.body).toMatchObject({ title: 'Carnivore protocol', content: md });
    const file = await svc.request('GET', `/documents/${created.body.documentId}/file`);
    expect(file.status).toBe(200);
    expect(file.bytes.toString('utf8')).toBe(md);
    expect(file.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="protocol.md"');
  });

  it('offers a file back under the name it was uploaded with, non-ASCII names as RFC 5987 filename*', async () => {
    const name = 'Ernährung für Anfänger (v2).txt';
    const created = await svc.request('POST', '/documents', { form: fileForm('Eat meat.\n', name) });
    expect(created.status).toBe(201);
    const file = await svc.request('GET', `/documents/${created.body.documentId}/file`);
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="Ern_hrung f_r Anf_nger (v2).txt"; filename*=UTF-8''Ern%C3%A4hrung%20f%C3%BCr%20Anf%C3%A4nger%20%28v2%29.txt`,
    );
    const text = await svc.request('POST', '/documents', {
      json: jsonDoc('Written as text, no file name.'),
    });
    expect((await svc.request('GET', `/documents/${text.body.documentId}/file`)).status).toBe(404);
  });

  it('edits with optimistic concurrency, refuses a stale version, and treats an empty change as no change', async () => {
    const { body: doc } = await svc.request('POST', '/documents', { json: jsonDoc('Version one text.') });
    const path = `/documents/${doc.documentId}`;
    const edited = await svc.request('PATCH', path, {
      json: { content: 'Version two text.', changeSummary: 'clearer' },
      headers: { 'if-match': '"1"' },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      documentId: doc.documentId,
      version: 2,
      position: expect.any(String),
    });
    const events = await svc.countEvents();
    const stale = await svc.request('PATCH', path, {
      json: { content: 'Lost update.' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'VERSION_CONFLICT' });
    const staleBody = await svc.request('PATCH', path, {
      json: { content: 'Lost update.', expectedVersion: 1 },
    });
    expect(staleBody.status).toBe(412);
    const same = await svc.request('PATCH', path, {
      json: { content: 'Version two text.', metadata: { tags: ['protein'] } },
    });
    expect(same.body).toMatchObject({ version: 2, position: edited.body.position });
    expect(await svc.countEvents()).toBe(events);
    const metaOnly = await svc.request('PATCH', path, {
      json: { metadata: { tags: ['protein', 'satiety'], reviewer: 'Dr. A' } },
    });
    expect(metaOnly.body.version).toBe(3);
    const read = await svc.request('GET', path);
    expect(read.body.metadata).toMatchObject({
      tags: ['protein', 'satiety'],
      reviewer: 'Dr. A',
      documentType: 'research',
    });
    expect((await svc.request('GET', `${path}?version=1`)).body).toMatchObject({
      content: 'Version one text.',
      version: 1,
    });
    expect((await svc.request('GET', `${path}?version=9`)).status).toBe(404);
  });

  it('replaces the file, rolls back to any version, retires and rolls back to life', async () => {
    const { body: doc } = await svc.request('POST', '/documents', {
      form: fileForm('First draft of the guide.\n', 'guide.txt'),
    });
    const path = `/documents/${doc.documentId}`;
    const replaced = await svc.request('PUT', `${path}/file`, {
      form: (() => {
        const f = new FormData();
        f.set('file', new Blob(['Second draft of the guide.\n']), 'guide-v2.txt');
        return f;
      })(),
    });
    expect(replaced.body.version).toBe(2);
    expect((await svc.request('GET', `${path}/file`)).bytes.toString()).toBe('Second draft of the guide.\n');
    expect((await svc.request('GET', `${path}/file?version=1`)).bytes.toString()).toBe(
      'First draft of the guide.\n',
    );
    const rolled = await svc.request('POST', `${path}/rollback`, {
      json: { toVersion: 1, reason: 'v2 was wrong' },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body.version).toBe(3);
    expect((await svc.request('GET', path)).body).toMatchObject({
      content: 'First draft of the guide.\n',
      version: 3,
    });
    const retired = await svc.request('DELETE', path);
    expect(retired.body.version).toBe(4);
    expect((await svc.request('GET', path)).body.status).toBe('retired');
    expect((await svc.request('PATCH', path, { json: { content: 'x' } })).body.code).toBe('DOCUMENT_RETIRED');
    const listed = await svc.request('GET', '/documents?coachId=carnivore&status=retired');
    expect(listed.body.items.map((d: { documentId: string }) => d.documentId)).toContain(doc.documentId);
    const back = await svc.request('POST', `${path}/rollback`, { json: { toVersion: 2 } });
    expect(back.body.version).toBe(5);
    expect((await svc.request('GET', path)).body).toMatchObject({
      status: 'active',
      content: 'Second draft of the guide.\n',
    });
    expect((await svc.request('POST', `${path}/rollback`, { json: { toVersion: 42 } })).body.code).toBe(
      'VERSION_NOT_FOUND',
    );
  });

  it("lists a coach's documents with filters and a cursor", async () => {
    for (const [i, type] of ['guide', 'guide', 'guide', 'case_study'].entries()) {
      await svc.request('POST', '/documents', {
        json: {
          ...jsonDoc(`Listing sample ${i}`),
          coachId: 'listing',
          metadata: meta({ documentType: type, tags: [`t${i % 2}`] }),
        },
      });
    }
    const first = await svc.request('GET', '/documents?coachId=listing&documentType=guide&limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await svc.request(
      'GET',
      `/documents?coachId=listing&documentType=guide&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const tagged = await svc.request('GET', '/documents?coachId=listing&tag=t1');
    expect(tagged.body.items).toHaveLength(2);
  });

  it('erases a document so that no table or file holds its text, and the history says who and why', async () => {
    const marker = `MARKER${Date.now()}ZQX`;
    const { body: doc } = await svc.request('POST', '/documents', {
      form: fileForm(`Secret protocol ${marker} text.\n`, 'secret.txt', meta({ author: `Author ${marker}` })),
    });
    const edited = await svc.request('PATCH', `/documents/${doc.documentId}`, {
      json: { content: `Edited ${marker} again`, changeSummary: `summary ${marker}` },
    });
    // Wait for the search index, and search for the marker: chunks, term statistics and the query cache hold it.
    const searchFor = (minPosition: string) =>
      svc.request('POST', '/search', { json: { coachId: 'carnivore', query: marker, minPosition } });
    const hitsOf = async (position: string) =>
      ((await searchFor(position)).body.results as Array<{ documentId: string }>).filter(
        (r) => r.documentId === doc.documentId,
      );
    expect(await hitsOf(edited.body.position)).not.toEqual([]);
    expect(await findMarker(svc, marker)).toEqual(
      expect.arrayContaining(['chunks', 'chunk_lexemes', 'rag_query_cache']),
    );
    const erased = await svc.request('POST', `/documents/${doc.documentId}/erase`, {
      json: { reason: 'GDPR request #12' },
    });
    expect(erased.status).toBe(200);
    expect(await hitsOf(erased.body.position)).toEqual([]);
    expect(await findMarker(svc, marker)).toEqual([]);
    expect((await svc.request('GET', `/documents/${doc.documentId}`)).body.code).toBe('DOCUMENT_ERASED');
    for (const path of ['file', 'file?version=1']) {
      const file = await svc.request('GET', `/documents/${doc.documentId}/${path}`);
      expect({ status: file.status, code: file.body.code }).toEqual({ status: 410, code: 'DOCUMENT_ERASED' });
    }
    expect(
      (await svc.request('POST', `/documents/${doc.documentId}/rollback`, { json: { toVersion: 1 } })).body
        .code,
    ).toBe('DOCUMENT_ERASED');
    const { rows } = await svc.db.client.query<{ change: string; change_summary: string; actor: string }>(
      `SELECT change, change_summary, actor FROM document_versions WHERE document_id = $1 ORDER BY version`,
      [doc.documentId],
    );
    expect(rows.map((r) => r.change)).toEqual(['uploaded', 'edited', 'erased']);
    expect(rows[2]).toMatchObject({
      change_summary: 'GDPR request #12',
      actor: expect.stringMatching(/^key-1-/),
    });
  });
});

/** Every text-like column of every table, and every file's bytes, searched for `marker`. */
async function findMarker(svc: TestService, marker: string): Promise<string[]> {
  const { rows: tables } = await svc.db.client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const hits: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await svc.db.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${table_name}" t WHERE t::text ILIKE $1`,
      [`%${marker}%`],
    );
    if (rows[0]!.n > 0) hits.push(table_name);
  }
  const { rows } = await svc.db.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM files WHERE position(convert_to($1, 'UTF8') in bytes) > 0`,
    [marker],
  );
  if (rows[0]!.n > 0) hits.push('files.bytes');
  return hits;
}
