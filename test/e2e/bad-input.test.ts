import { targets } from '../support/databases.js';
import { minimalPdf } from '../support/pdf.js';
import { KEYS, startService, type RequestOptions, type TestService } from '../support/service.js';
import { docxOf, zipOf } from '../support/zip.js';

const MAX_UPLOAD = 256 * 1024;
const meta = { documentType: 'research', tags: ['protein'], accessTier: 'free' };
const good = { coachId: 'carnivore', title: 'T', content: 'Some text.', metadata: meta };
const form = (
  bytes: Buffer | string,
  filename = 'upload.bin',
  fields: Record<string, string> = { coachId: 'carnivore', metadata: JSON.stringify(meta) },
) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  f.set('file', new Blob([bytes]), filename);
  return f;
};
/** The upload form with its fields, less one part. */
const formWithout = (part: string) => {
  const f = form('text', 'a.txt');
  f.delete(part);
  return f;
};
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);
const ELF = Buffer.concat([Buffer.from('7f454c46020101000000000000000000', 'hex'), Buffer.alloc(64, 0)]);
const PDF = minimalPdf(['Protein keeps you full.']);
const zeros = Buffer.alloc(40 * 1024 * 1024);

/** An upload's JSON with one field given as raw JSON text (escapes kept as the client sent them). */
const rawDoc = (field: string) => {
  const key = field.slice(1, field.indexOf('"', 1));
  const rest = Object.entries(good)
    .filter(([k]) => k !== key)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{${[...rest, field].join(',')}}`;
};

type Case = [
  name: string,
  request: (doc: string) => [method: string, path: string, options: RequestOptions],
  status: number,
  code: string,
];

const upload = (options: RequestOptions): ReturnType<Case[1]> => ['POST', '/documents', options];
const CASES: Case[] = [
  [
    'a PNG named .pdf (spoofed extension)',
    () => upload({ form: form(PNG, 'paper.pdf') }),
    415,
    'UNSUPPORTED_FILE_TYPE',
  ],
  ['an executable named .txt', () => upload({ form: form(ELF, 'notes.txt') }), 415, 'UNSUPPORTED_FILE_TYPE'],
  ['a truncated PDF', () => upload({ form: form(PDF.subarray(0, 120), 'cut.pdf') }), 422, 'CORRUPT_FILE'],
  [
    'an invalid PDF',
    () =>
      upload({ form: form(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 7)]), 'bad.pdf') }),
    422,
    'CORRUPT_FILE',
  ],
  [
    'an image-only PDF',
    () => upload({ form: form(minimalPdf(['']), 'scan.pdf') }),
    422,
    'NO_EXTRACTABLE_TEXT',
  ],
  [
    'a zip bomb DOCX (40 MB of zeros)',
    () => upload({ form: form(docxOf([], { data: zeros }), 'bomb.docx') }),
    422,
    'UNSAFE_ARCHIVE',
  ],
  [
    'a DOCX that unpacks to more than allowed',
    () => upload({ form: form(docxOf([], { data: Buffer.alloc(2 * 1024 * 1024, 32) }), 'big.docx') }),
    413,
    'FILE_TOO_LARGE',
  ],
  [
    'a DOCX lying about its size',
    () => upload({ form: form(docxOf([], { data: zeros, declaredSize: 1000 }), 'liar.docx') }),
    422,
    'UNSAFE_ARCHIVE',
  ],
  [
    'a "DOCX" that is not a zip',
    () => upload({ form: form(Buffer.concat([Buffer.alloc(10, 0), Buffer.from('garbage')]), 'fake.docx') }),
    415,
    'UNSUPPORTED_FILE_TYPE',
  ],
  [
    'a zip that is not a DOCX',
    () => upload({ form: form(zipOf([{ name: 'a.txt', data: Buffer.from('hi') }]), 'a.docx') }),
    415,
    'UNSUPPORTED_FILE_TYPE',
  ],
  [
    'invalid UTF-8 text',
    () => upload({ form: form(Buffer.from([0x48, 0x69, 0xc3, 0x28, 0x0a]), 'notes.txt') }),
    422,
    'INVALID_ENCODING',
  ],
  ['an empty file', () => upload({ form: form(Buffer.alloc(0), 'empty.txt') }), 422, 'EMPTY_FILE'],
  [
    'a file over the size limit',
    () => upload({ form: form(Buffer.alloc(MAX_UPLOAD + 1, 97), 'big.txt') }),
    413,
    'FILE_TOO_LARGE',
  ],
  [
    'a JSON body over the limit',
    () => upload({ json: { ...good, content: 'x'.repeat(300 * 1024) } }),
    413,
    'PAYLOAD_TOO_LARGE',
  ],
  ['malformed JSON', () => upload({ raw: '{"coachId": "carnivore",' }), 400, 'MALFORMED_BODY'],
  [
    'a multipart upload without a file',
    () => upload({ form: formWithout('file') }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a file for a coach the key cannot write (refused before extraction, not 422)',
    () => upload({ as: 'otherEditor', form: form(PDF.subarray(0, 120), 'cut.pdf') }),
    403,
    'FORBIDDEN',
  ],
  [
    'a JSON upload without coachId',
    () => upload({ json: { ...good, coachId: undefined } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a file upload without coachId',
    () => upload({ form: form('text', 'a.txt', { metadata: JSON.stringify(meta) }) }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'metadata that is not JSON',
    () => upload({ form: form('text', 'a.txt', { coachId: 'carnivore', metadata: '{nope' }) }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an unknown documentType',
    () => upload({ json: { ...good, metadata: { ...meta, documentType: 'blog' } } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an unknown accessTier',
    () => upload({ json: { ...good, metadata: { ...meta, accessTier: 'gold' } } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'tags of the wrong type',
    () => upload({ json: { ...good, metadata: { ...meta, tags: 'protein' } } }),
    400,
    'VALIDATION_FAILED',
  ],
  ['content of the wrong type', () => upload({ json: { ...good, content: 42 } }), 400, 'VALIDATION_FAILED'],
  [
    'an impossible publication date',
    () => upload({ json: { ...good, metadata: { ...meta, publicationDate: '2024-13-45' } } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a path-traversal file name',
    () => upload({ form: form('text', '../../etc/passwd') }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an SQL-looking tag',
    () => upload({ json: { ...good, metadata: { ...meta, tags: ["'; DROP TABLE events; --"] } } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a custom field with a hostile name',
    () => upload({ json: { ...good, metadata: { ...meta, 'a b$': 1 } } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'content with a NUL character',
    () => upload({ json: { ...good, content: 'a\u0000b' } }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a stale If-Match',
    (doc) => ['PATCH', `/documents/${doc}`, { json: { content: 'new' }, headers: { 'if-match': '"7"' } }],
    412,
    'VERSION_CONFLICT',
  ],
  [
    'a malformed If-Match',
    (doc) => [
      'PATCH',
      `/documents/${doc}`,
      { json: { content: 'new' }, headers: { 'if-match': 'yesterday' } },
    ],
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an edit with nothing in it',
    (doc) => ['PATCH', `/documents/${doc}`, { json: {} }],
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a rollback to a version that does not exist',
    (doc) => ['POST', `/documents/${doc}/rollback`, { json: { toVersion: 99 } }],
    422,
    'VERSION_NOT_FOUND',
  ],
  [
    'a rollback to version "one"',
    (doc) => ['POST', `/documents/${doc}/rollback`, { json: { toVersion: 'one' } }],
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an erase without a reason',
    (doc) => ['POST', `/documents/${doc}/erase`, { json: {} }],
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an edit of a document that does not exist',
    () => ['PATCH', '/documents/6f1c1a52-7c0f-4a7e-9a43-2d2b1b0b7c11', { json: { content: 'x' } }],
    404,
    'NOT_FOUND',
  ],
  ['a malformed document id', () => ['GET', '/documents/..%2F..%2Fetc', {}], 404, 'NOT_FOUND'],
  [
    'a file replacement without a file',
    (doc) => [
      'PUT',
      `/documents/${doc}/file`,
      {
        form: (() => {
          const f = new FormData();
          f.set('changeSummary', 'x');
          return f;
        })(),
      },
    ],
    400,
    'VALIDATION_FAILED',
  ],
  [
    'PUT on /search (a POST route)',
    () => ['PUT', '/search', { json: { coachId: 'c', query: 'q' } }],
    405,
    'METHOD_NOT_ALLOWED',
  ],
  ['DELETE on /changelog', () => ['DELETE', '/changelog', {}], 405, 'METHOD_NOT_ALLOWED'],
  [
    'POST on a document (PATCH, PUT its file)',
    (doc) => ['POST', `/documents/${doc}`, { json: {} }],
    405,
    'METHOD_NOT_ALLOWED',
  ],
  ['an unknown path, whatever the method', () => ['PUT', '/no-such-route', {}], 404, 'NOT_FOUND'],
  [
    'a text/plain body on a JSON route',
    () => [
      'POST',
      '/search',
      { raw: '{"coachId":"c","query":"q"}', headers: { 'content-type': 'text/plain' } },
    ],
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'a form on an edit (JSON only)',
    (doc) => ['PATCH', `/documents/${doc}`, { form: form('x', 'x.txt', { content: 'x' }) }],
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'JSON on a file replacement (multipart only)',
    (doc) => ['PUT', `/documents/${doc}/file`, { json: { changeSummary: 'x' } }],
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  ['a diff with from=x', (doc) => ['GET', `/documents/${doc}/diff?from=x`, {}], 400, 'VALIDATION_FAILED'],
  // PostgreSQL stores neither a NUL nor an unpaired surrogate (text, jsonb): refused at the edge, never a 500.
  ...(
    [
      [
        'a NUL in a search query',
        ['POST', '/search', { raw: '{"coachId":"carnivore","query":"a\\u0000b"}' }],
      ],
      ['an unpaired surrogate in a title', upload({ raw: rawDoc('"title":"\\ud800"') })],
      ['a NUL in content', upload({ raw: rawDoc('"content":"x\\u0000y"') })],
      [
        'an unpaired surrogate in an author',
        upload({
          raw: rawDoc('"metadata":{"documentType":"guide","tags":[],"accessTier":"free","author":"\\udc00"}'),
        }),
      ],
      [
        'a NUL in a custom metadata key',
        upload({
          raw: rawDoc(
            '"metadata":{"documentType":"guide","tags":[],"accessTier":"free","custom":{"a\\u0000":1}}',
          ),
        }),
      ],
      ['a NUL in a tag filter', ['GET', '/documents?coachId=carnivore&tag=%00', {}]],
      [
        "a NUL in a form's metadata tag",
        upload({
          form: form('text', 'a.txt', {
            coachId: 'carnivore',
            metadata: '{"documentType":"guide","tags":["a\\u0000"],"accessTier":"free"}',
          }),
        }),
      ],
    ] as Array<[string, ReturnType<Case[1]>]>
  ).map(([name, request]): Case => [name, () => request, 400, 'VALIDATION_FAILED']),
  [
    'a NUL in an edit',
    (doc) => ['PATCH', `/documents/${doc}`, { raw: '{"content":"a\\u0000"}' }],
    400,
    'VALIDATION_FAILED',
  ],
];

describe.each(targets())('bad input on %s', (kind) => {
  let svc: TestService;
  let doc: string;
  beforeAll(async () => {
    svc = await startService(kind, {
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
      JSON_BODY_LIMIT_BYTES: String(256 * 1024),
    });
    doc = (await svc.request('POST', '/documents', { json: good })).body.documentId;
  }, 60_000);
  afterAll(() => svc?.close());

  it.each(CASES)('%s → %i %s, nothing written', async (_name, build, status, code) => {
    const before = await svc.countEvents();
    const [method, path, options] = build(doc);
    const res = await svc.request(method, path, options);
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toEqual(expect.any(String));
    expect(await svc.countEvents()).toBe(before);
  });

  // Found by the fuzzer: the request observer's `finish` listener matched the path again, and the decoder's
  // URIError there ended the process (in-process here, an uncaught error fails this file).
  it('answers 400 to a path parameter a decoder chokes on, and goes on serving', async () => {
    for (const bad of ['%ED%A0%80', '%ZZ', '%', `${doc}%ED%A0%80/versions`]) {
      const res = await svc.request('GET', `/documents/${bad}`);
      expect({ bad, status: res.status, code: res.body?.code }).toEqual({
        bad,
        status: 400,
        code: 'BAD_REQUEST',
      });
    }
    await new Promise((resolve) => setImmediate(resolve)); // the responses' `finish` listeners have run
    expect((await svc.request('GET', '/health')).status).toBe(200);
  });

  it('names the missing file part of a multipart upload (not its JSON fields)', async () => {
    const res = await svc.request('POST', '/documents', { form: formWithout('file') });
    expect(res.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'form.file', message: 'required' }],
    });
  });

  it('lists the allowed methods in Allow on a 405', async () => {
    const search = await svc.request('PUT', '/search', { json: {} });
    expect(search.headers.get('allow')).toBe('POST');
    const changelog = await svc.request('DELETE', '/changelog');
    expect(changelog.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    const document = await svc.request('POST', `/documents/${doc}`, { json: {} });
    expect(document.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
  });

  it('lets HEAD through where GET is allowed, and a POST without a body (Content-Length: 0) is no 415', async () => {
    expect((await fetch(`${svc.base}/health`, { method: 'HEAD' })).status).toBe(200);
    const erase = await svc.request('POST', `/documents/${doc}/erase`);
    expect(erase).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  });

  it('refuses a body without a Content-Type on a JSON route with 415', async () => {
    const res = await fetch(`${svc.base}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}` },
      body: new TextEncoder().encode('{"coachId":"carnivore","query":"q"}'),
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      detail: expect.stringMatching(/without a Content-Type/),
    });
  });

  it('says what to send, in words, for a diff without version numbers and for a wrong type', async () => {
    const diff = await svc.request('GET', `/documents/${doc}/diff?from=x`);
    expect(diff.body.detail).toBe(
      'invalid query: query.from, query.to: `from` and `to` are required version numbers',
    );
    const search = await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'q', k: 'ten' },
    });
    expect(search.body.errors).toEqual([{ path: 'body.k', message: 'must be a number, not a string' }]);
    expect(search.body.detail).not.toMatch(/NaN|received/);
  });

  it('stores a DOCX whose text holds an unpaired surrogate, with U+FFFD in its place', async () => {
    const bytes = docxOf([{ text: 'Before &#xD800; after.' }]);
    const res = await svc.request('POST', '/documents', { form: form(bytes, 'odd.docx') });
    expect(res.status).toBe(201);
    const read = await svc.request('GET', `/documents/${res.body.documentId}`);
    expect(read.body.content).toBe('Before \uFFFD after.');
  });

  it('still accepts a good PDF after all that', async () => {
    const res = await svc.request('POST', '/documents', { form: form(PDF, 'good.pdf') });
    expect(res.status).toBe(201);
    expect((await svc.request('GET', `/documents/${res.body.documentId}`)).body.content).toContain(
      'Protein keeps you full.',
    );
  });
});
