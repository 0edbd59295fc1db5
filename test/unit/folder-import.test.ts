import { createServer, type Server } from 'node:http';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  FileFailure,
  listFolder,
  mergeMetadata,
  metadataFromName,
  readSidecar,
} from '../../src/cli/import/folder-files.js';
import { HttpTarget, retryAfterMs } from '../../src/cli/import/http-target.js';
import { libraryTree } from '../support/folder-tree.js';

describe('a folder to import', () => {
  const tree = libraryTree({ notes: 1 });
  afterAll(() => rmSync(tree.root, { recursive: true, force: true }));

  it('lists every file by its relative path, in path order, without hidden files, sidecars or links', async () => {
    symlinkSync(tree.root, join(tree.root, 'loop'));
    const paths = (await listFolder(tree.root)).map((f) => f.sourcePath);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toEqual(
      expect.arrayContaining([...tree.good, tree.duplicate, ...Object.keys(tree.failing)]),
    );
    expect(paths.some((p) => /(^|\/)\.|\.meta\.json$|^loop/.test(p))).toBe(false);
  });

  it.each([
    [
      '2024-01-15 - Dr Smith - Sleep and recovery.pdf',
      { publicationDate: '2024-01-15', author: 'Dr Smith', title: 'Sleep and recovery' },
    ],
    [
      'a/b/2023-12-01 - Protein - a review - part 2.docx',
      { publicationDate: '2023-12-01', author: 'Protein', title: 'a review - part 2' },
    ],
    ['2024-01-15 - Only a title.txt', { publicationDate: '2024-01-15', title: 'Only a title' }],
    ['2024-13-45 - Not a date - Title.txt', {}],
    ['Plain name.pdf', {}],
  ])('reads metadata from the name %s', (name, expected) => {
    expect(metadataFromName(name)).toEqual(expected);
  });

  it('lets the name win over the flags and the sidecar over both', () => {
    const merged = mergeMetadata([
      { documentType: 'research', accessTier: 'premium', tags: ['flag'] },
      { title: 'From the name', author: 'Name' },
      { author: 'Sidecar', tags: ['sidecar'] },
    ]);
    expect(merged).toMatchObject({
      title: 'From the name',
      author: 'Sidecar',
      tags: ['sidecar'],
      documentType: 'research',
    });
  });

  it('refuses metadata without a type or tier, naming the flag that gives it', () => {
    expect(() => mergeMetadata([{ accessTier: 'free' }])).toThrow(/no documentType: give --type/);
    expect(() => mergeMetadata([{ documentType: 'guide' }])).toThrow(/no accessTier: give --tier/);
  });

  it('refuses a sidecar that is not JSON or not metadata, with VALIDATION_FAILED', async () => {
    tree.write('x/a.txt', 'a');
    tree.write('x/a.txt.meta.json', '{ not json');
    tree.write('x/b.txt', 'b');
    tree.write('x/b.txt.meta.json', JSON.stringify({ accessTier: 'gold' }));
    const file = (p: string) => ({ absolutePath: join(tree.root, p), sourcePath: p, size: 1 });
    await expect(readSidecar(file('x/a.txt'))).rejects.toThrow(/is not JSON/);
    await expect(readSidecar(file('x/b.txt'))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(readSidecar(file('x/none.txt'))).resolves.toEqual({});
  });

  it('refuses an oversize sidecar before reading it', async () => {
    tree.write('x/c.txt', 'c');
    tree.write('x/c.txt.meta.json', `{"author":"${'a'.repeat(70_000)}"}`);
    const file = { absolutePath: join(tree.root, 'x/c.txt'), sourcePath: 'x/c.txt', size: 1 };
    await expect(readSidecar(file)).rejects.toThrow(FileFailure);
  });
});

describe('the HTTP target', () => {
  let server: Server;
  let url: string;
  const replies: Array<{ status: number; headers?: Record<string, string>; body?: unknown }> = [];
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      req.resume();
      const reply = replies.shift() ?? { status: 500 };
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    replies.length = 0;
    seen.length = 0;
  });

  const file = {
    coachId: 'c',
    sourcePath: 'a/b.txt',
    filename: 'b.txt',
    bytes: Buffer.from('text'),
    metadata: { documentType: 'guide' as const, accessTier: 'free' as const, tags: [] },
  };

  it("waits out a 429's Retry-After, then sends the file again with the key", async () => {
    const waits: number[] = [];
    replies.push({ status: 429, headers: { 'retry-after': '3' } });
    replies.push({ status: 201, body: { documentId: 'd', version: 1, position: '1.1', outcome: 'created' } });
    const target = new HttpTarget({ url, apiKey: 'k', wait: async (ms) => void waits.push(ms) });
    await expect(target.importFile(file)).resolves.toMatchObject({ outcome: 'created' });
    expect(waits).toEqual([3000]);
    expect(seen).toEqual(['POST /documents Bearer k', 'POST /documents Bearer k']);
  });

  it('gives a file up after its attempts, with the problem code of the last answer', async () => {
    for (let i = 0; i < 3; i++)
      replies.push({ status: 503, body: { code: 'DATABASE_UNAVAILABLE', detail: 'down' } });
    const target = new HttpTarget({ url, attempts: 3, wait: async () => undefined });
    await expect(target.importFile(file)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect(seen).toHaveLength(3);
  });

  it('reports a refused file by its problem code, and a refused key as the end of the run', async () => {
    replies.push({ status: 422, body: { code: 'ENCRYPTED_PDF', detail: 'locked' } });
    const target = new HttpTarget({ url });
    await expect(target.importFile(file)).rejects.toMatchObject({ code: 'ENCRYPTED_PDF', message: 'locked' });
    replies.push({ status: 401 });
    await expect(target.importFile(file)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('ends the run when nothing answers at the address', async () => {
    await expect(new HttpTarget({ url: 'http://127.0.0.1:1' }).importFile(file)).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
  });

  it('reads Retry-After as seconds, bounds it, and backs off without one', () => {
    expect(retryAfterMs('2', 1)).toBe(2000);
    expect(retryAfterMs('100000', 1)).toBe(60_000);
    expect(retryAfterMs(null, 3)).toBe(4000);
  });
});
