import { serviceTargets, startService, type TestService, type Who } from '../support/service.js';

const HEADER = 'coach_id,title,content,document_type,access_tier,tags,author,publication_date';
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;

const csvForm = (text: string | Buffer) => {
  const form = new FormData();
  form.set('file', new Blob([text]), 'import.csv');
  return form;
};

describe.each(serviceTargets())('POST /imports/csv on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind, { MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) })));
  afterAll(() => svc?.close());

  const importCsv = (text: string | Buffer, as: Who = 'admin') =>
    svc.request('POST', '/imports/csv', { form: csvForm(text), as });
  const rows = async (sql: string, params: unknown[] = []) => (await svc.db.client.query(sql, params)).rows;

  it('imports a file with a BOM, CRLF and a quoted newline; reports a bad row by the line it starts on', async () => {
    const text =
      `\uFEFF${HEADER}\r\n` +
      `carnivore,Liver,"Liver is dense.\r\nSecond line, with a comma.",research,free,organ; nutrients ,Ann,2024-01-31\r\n` +
      `carnivore,Bad type,Some text,essay,free,,,\r\n` +
      `\r\n` +
      `carnivore,Eggs,Eggs are cheap.,guide,premium,"eggs,cheap",,\r\n`;
    const before = await svc.countEvents();
    const res = await importCsv(text);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 2, duplicates: 0, position: expect.any(String) });
    expect(res.body.failed).toEqual([
      { line: 4, code: 'VALIDATION_FAILED', detail: expect.stringContaining('documentType') },
    ]);
    expect(res.body.documents.map((d: { line: number }) => d.line)).toEqual([2, 6]);
    // With EventStoreDB each new source is also reserved by an event of its own (docs/eventstoredb.md).
    expect(await svc.countEvents()).toBe(before + (kind === 'eventstoredb' ? 4 : 2));
    const liver = await svc.request('GET', `/documents/${res.body.documents[0].documentId}`);
    expect(liver.body).toMatchObject({
      title: 'Liver',
      content: 'Liver is dense.\nSecond line, with a comma.',
      metadata: {
        documentType: 'research',
        tags: ['organ', 'nutrients'],
        author: 'Ann',
        publicationDate: '2024-01-31',
      },
    });
    const eggs = await svc.request('GET', `/documents/${res.body.documents[1].documentId}`);
    expect(eggs.body.metadata).toMatchObject({ tags: ['eggs', 'cheap'], accessTier: 'premium' });
  });

  it('imports nothing the second time: every row is a duplicate of the first import, within a file too', async () => {
    const text = `${HEADER}\ncarnivore,A,Alpha text.,guide,free,,,\ncarnivore,A again,Alpha text.,guide,free,,,\ncarnivore,B,Beta text.,guide,free,,,\n`;
    const first = await importCsv(text);
    expect(first.body).toMatchObject({ imported: 2, duplicates: 1, failed: [] });
    const [a, aAgain] = first.body.documents;
    expect(aAgain).toEqual({ ...a, line: 3, duplicate: true });
    const events = await svc.countEvents();
    const again = await importCsv(text);
    expect(again.body).toMatchObject({ imported: 0, duplicates: 3, failed: [] });
    expect(again.body.documents.map((d: { documentId: string }) => d.documentId)).toEqual(
      first.body.documents.map((d: { documentId: string }) => d.documentId),
    );
    expect(await svc.countEvents()).toBe(events);
  });

  it('reports a row for a coach the key cannot write as FORBIDDEN and imports the rest', async () => {
    const text = `${HEADER}\nvegan,Tofu,Tofu text.,guide,free,,,\ncarnivore,Steak,Steak text.,guide,free,,,\n`;
    const res = await importCsv(text, 'editor');
    expect(res.body).toMatchObject({ imported: 1, failed: [{ line: 2, code: 'FORBIDDEN' }] });
    expect((await importCsv(text, 'premiumReader')).status).toBe(403);
  });

  it('refuses a record over the size limit and a file over MAX_UPLOAD_BYTES, and writes nothing', async () => {
    const events = await svc.countEvents();
    const big = 'x'.repeat(1024 * 1024 + 10);
    const record = await importCsv(
      `${HEADER}\ncarnivore,Small,Small text.,guide,free,,,\ncarnivore,Big,"${big}",guide,free,,,\n`,
    );
    expect(record.status).toBe(400);
    expect(record.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      detail: expect.stringContaining('line 3'),
    });
    const file = await importCsv(
      `${HEADER}\n` + `carnivore,T,"${'y'.repeat(1000)}",guide,free,,,\n`.repeat(2200),
    );
    expect(file.status).toBe(413);
    expect(file.body).toMatchObject({ code: 'FILE_TOO_LARGE' });
    const header = await importCsv('coach,title\nx,y\n');
    expect(header.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      detail: expect.stringContaining('unknown column'),
    });
    expect(header.body.detail).toMatch(/missing column\(s\) coach_id, content, document_type, access_tier/);
    const empty = await importCsv('');
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining('empty') });
    expect(await svc.countEvents()).toBe(events);
  });

  it('gives a document the same read model and history as the same text uploaded singly', async () => {
    const metadata = {
      documentType: 'protocol',
      accessTier: 'free',
      tags: ['a', 'b'],
      author: 'Bo',
      publicationDate: '2023-05-06',
    };
    const content = 'Same text both ways.\nTwo lines.';
    const single = await svc.request('POST', '/documents', {
      json: { coachId: 'carnivore', title: 'Same', content, metadata },
    });
    expect(single.status).toBe(201);
    const imported = await importCsv(`${HEADER}\nvegan,Same,"${content}",protocol,free,a;b,Bo,2023-05-06\n`);
    const importedId = imported.body.documents[0].documentId;
    const ids = [single.body.documentId, importedId];
    const [one, other] = await Promise.all(ids.map((id) => svc.request('GET', `/documents/${id}`)));
    const strip = ({
      documentId: _d,
      coachId: _c,
      createdAt: _a,
      updatedAt: _u,
      ...rest
    }: Record<string, unknown>) => rest;
    expect(strip(other!.body)).toEqual(strip(one!.body));
    const [h1, h2] = await Promise.all(ids.map((id) => svc.request('GET', `/documents/${id}/versions`)));
    const versions = (h: { body: { versions: Array<Record<string, unknown>> } }) =>
      h.body.versions.map(({ at: _a, position: _p, ...v }) => v);
    expect(versions(h2!)).toEqual(versions(h1!));
    const model = `SELECT status, version, title, content, format, metadata, document_type, access_tier, tags,
        publication_date::text, source_url, source_sha256, file_sha256 FROM documents WHERE document_id = $1`;
    expect(await rows(model, [importedId])).toEqual(await rows(model, [single.body.documentId]));
    const history = `SELECT version, change, change_summary, actor, status, title, content, format, metadata
        FROM document_versions WHERE document_id = $1`;
    expect(await rows(history, [importedId])).toEqual(await rows(history, [single.body.documentId]));
    const keys = await rows(
      `SELECT count(*)::int AS n FROM document_keys WHERE document_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(keys).toEqual([{ n: 2 }]);
  });

  it('makes the import searchable at the position it answers with', async () => {
    const res = await importCsv(
      `${HEADER}\ncarnivore,Bone broth,Bone broth is rich in collagen.,guide,free,,,\n`,
    );
    const search = await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'collagen broth', minPosition: res.body.position },
    });
    expect(search.status).toBe(200);
    expect(search.body.results[0]).toMatchObject({ documentId: res.body.documents[0].documentId });
  });
});
