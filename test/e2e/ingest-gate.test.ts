import { request as httpRequest, type ClientRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { IngestGate } from '../../src/infrastructure/http/ingest-gate.js';
import { KEYS, startService, type TestService } from '../support/service.js';
import { targets } from '../support/databases.js';

const metadata = JSON.stringify({ documentType: 'research', accessTier: 'free' });

/** A multipart upload's bytes and content type, as fetch would send them. */
async function multipart(text: string): Promise<{ body: Buffer; type: string }> {
  const form = new FormData();
  form.set('coachId', 'carnivore');
  form.set('metadata', metadata);
  form.set('file', new Blob([text]), 'notes.txt');
  const req = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: Buffer.from(await req.arrayBuffer()), type: req.headers.get('content-type')! };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { code?: string; documentId?: string };
}

/** A request whose body is sent in two parts: `finish()` sends the rest; `answer` settles with the response. */
function slowUpload(
  svc: TestService,
  headers: Record<string, string | number>,
  first: Buffer,
): { req: ClientRequest; answer: Promise<Answer> } {
  const url = new URL('/documents', svc.base);
  let req!: ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    req = httpRequest(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${KEYS.editor}`, ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
  });
  req.write(first);
  return { req, answer };
}

/** Waits for a state of the gate that requests in flight will reach (polled, not timed). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(5);
}

describe.each(targets())('ingest admission on %s', (kind) => {
  let svc: TestService;
  let gate: IngestGate;
  beforeAll(async () => {
    svc = await startService(kind, {
      INGEST_CONCURRENCY: '1',
      INGEST_QUEUE_LENGTH: '1',
      INGEST_QUEUE_TIMEOUT_MS: '600000',
      MAX_UPLOAD_BYTES: String(1024 * 1024),
    });
    gate = svc.app.get(IngestGate);
  });
  afterAll(() => svc?.close());

  const documents = async () =>
    (await svc.db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM documents')).rows[0]!.n;

  it('runs one upload at a time, queues the next, refuses the one after with 503, and refuses a declared oversize body at once', async () => {
    const before = await documents();
    const a = await multipart('The first upload, whose body arrives slowly.');
    const half = a.body.length >> 1;
    const first = slowUpload(
      svc,
      { 'content-type': a.type, 'content-length': a.body.length },
      a.body.subarray(0, half),
    );
    await until(() => gate.running === 1);

    const second = svc.request('POST', '/documents', {
      as: 'editor',
      form: await form('The second upload waits.'),
    });
    await until(() => gate.waiting === 1);

    const third = await svc.request('POST', '/documents', {
      as: 'editor',
      form: await form('The third is refused.'),
    });
    expect(third.status).toBe(503);
    expect(third.body).toMatchObject({ code: 'SERVER_BUSY' });
    expect(third.headers.get('retry-after')).toBe('5');

    // Declared larger than any accepted upload: refused before it waits for a slot or is read.
    const oversize = slowUpload(
      svc,
      { 'content-type': a.type, 'content-length': 3 * 1024 * 1024 },
      Buffer.from('--x\r\n'),
    );
    const refused = await oversize.answer;
    oversize.req.destroy();
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ code: 'FILE_TOO_LARGE' });
    expect(await documents()).toBe(before);

    first.req.end(a.body.subarray(half));
    expect((await first.answer).status).toBe(201);
    expect((await second).status).toBe(201);
    expect(await documents()).toBe(before + 2);
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  async function form(text: string): Promise<FormData> {
    const f = new FormData();
    f.set('coachId', 'carnivore');
    f.set('metadata', metadata);
    f.set('file', new Blob([text]), 'notes.txt');
    return f;
  }
});

describe('ingest admission: a request that waited too long', () => {
  let svc: TestService;
  let gate: IngestGate;
  beforeAll(async () => {
    svc = await startService('pglite', {
      INGEST_CONCURRENCY: '1',
      INGEST_QUEUE_TIMEOUT_MS: '200',
    });
    gate = svc.app.get(IngestGate);
  });
  afterAll(() => svc?.close());

  it('is answered 503 and gives back the slot it is granted later, so uploads go on', async () => {
    const a = await multipart('Held while another request waits.');
    const first = slowUpload(
      svc,
      { 'content-type': a.type, 'content-length': a.body.length },
      a.body.subarray(0, 10),
    );
    await until(() => gate.running === 1);
    const waited = await svc.request('POST', '/documents', {
      as: 'editor',
      json: {
        coachId: 'carnivore',
        title: 'Waited',
        content: 'Waited too long.',
        metadata: JSON.parse(metadata),
      },
    });
    expect(waited.status).toBe(503);
    expect(waited.body).toMatchObject({ code: 'SERVER_BUSY' });
    first.req.end(a.body.subarray(10));
    expect((await first.answer).status).toBe(201);
    const after = await svc.request('POST', '/documents', {
      as: 'editor',
      json: {
        coachId: 'carnivore',
        title: 'After',
        content: 'Admitted after the wait.',
        metadata: JSON.parse(metadata),
      },
    });
    expect(after.status).toBe(201);
    await until(() => gate.running === 0);
  });
});
