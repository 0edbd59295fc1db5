import { SchedulerRegistry } from '@nestjs/schedule';
import { UrlRefreshScheduler, URL_REFRESH_JOB } from '../../src/commands/import-url/url-refresh.scheduler.js';
import { runUrlImport } from '../../src/cli/import/run-import-url.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { urlSources } from '../../src/infrastructure/url-sources/url-sources.js';
import { Child } from '../support/child.js';
import { TestClock } from '../support/clock.js';
import { targets } from '../support/databases.js';
import { KEYS, startService, type TestService } from '../support/service.js';
import { WebServer } from '../support/web-server.js';
import { minimalPdf } from '../support/pdf.js';

const MAX_UPLOAD_BYTES = 300_000;
const DAY = 24 * 3600_000;
const metadata = { documentType: 'guide', tags: ['web'], accessTier: 'free' };

const page = (
  article: string,
  menu = 'Home Shop Contact',
) => `<!doctype html><html><head><title>Hydration | Coach</title></head>
<body><nav>${menu}</nav><header>Subscribe to our newsletter</header>
<article><h1>Hydration</h1><p>${`${article} `.repeat(6)}</p><h2>Electrolytes</h2><p>${'Sodium and potassium matter in heat. '.repeat(5)}</p></article>
<footer>Cookie policy. Copyright 2024.</footer></body></html>`;

describe.each(targets())('URL sources on %s', (kind) => {
  let svc: TestService;
  let web: WebServer;
  const clock = new TestClock('2030-01-01T00:00:00.000Z');
  beforeAll(async () => {
    web = await new WebServer().start();
    svc = await startService(
      kind,
      {
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
        URL_FETCH_TIMEOUT_MS: '1500',
        URL_FETCH_ALLOW_HOSTS: '127.0.0.1',
      },
      { clock },
    );
  });
  afterAll(async () => {
    await svc?.close();
    await web?.close();
  });

  const fromUrl = (url: string, extra: Record<string, unknown> = {}) =>
    svc.request('POST', '/documents/from-url', { json: { coachId: 'carnivore', url, metadata, ...extra } });
  /** The scheduler's own job, fired as its cron would fire it; resolves when the run is done. */
  const runSchedule = async () => {
    svc.app.get(SchedulerRegistry).getCronJob(URL_REFRESH_JOB).fireOnTick();
    return svc.app.get(UrlRefreshScheduler).tick();
  };
  const versions = async (id: string) =>
    (await svc.request('GET', `/documents/${id}/versions`)).body.versions.map(
      (v: { change: string; actor: string }) => `${v.change} ${v.actor}`,
    );

  it("makes a document of a page's article, not its menus and footers, with its source and schedule", async () => {
    web.set('/article', page('Drink water before you are thirsty.'));
    const res = await fromUrl(`${web.base}/article`);
    expect(res.status).toBe(201);
    const doc = (await svc.request('GET', `/documents/${res.body.documentId}`)).body;
    expect(doc.content).toContain('Drink water before you are thirsty.');
    expect(doc.content).toContain('Sodium and potassium');
    expect(doc.content).not.toMatch(/Cookie policy|Subscribe|Shop/);
    expect(doc.metadata).toMatchObject({ sourceUrl: `${web.base}/article`, tags: ['web'] });
    expect(doc.urlSource).toMatchObject({
      url: `${web.base}/article`,
      refreshIntervalDays: 30,
      failures: 0,
      nextRefreshAt: new Date(clock.now().getTime() + 30 * DAY).toISOString(),
    });
    const again = await fromUrl(`${web.base}/article`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ documentId: res.body.documentId, duplicate: true });
  });

  it('takes a PDF at a URL as an upload of it', async () => {
    web.set('/paper.pdf', minimalPdf(['Creatine loading study results']), 'application/pdf');
    const res = await fromUrl(`${web.base}/paper.pdf`);
    expect(res.status).toBe(201);
    const doc = (await svc.request('GET', `/documents/${res.body.documentId}`)).body;
    expect(doc.content).toContain('Creatine loading study results');
  });

  it('refreshes on schedule with a fake clock: 304 and unchanged text append nothing, changed text a new version', async () => {
    web.set('/changing', page('Version one of the advice.'));
    const { documentId } = (await fromUrl(`${web.base}/changing`, { refreshIntervalDays: 2 })).body;
    clock.tick(1 * DAY);
    expect((await runSchedule()).updated).toBe(0);
    expect(web.requests.filter((r) => r.path === '/changing')).toHaveLength(1); // not due yet

    clock.tick(2 * DAY);
    const events = await svc.countEvents();
    expect(await runSchedule()).toMatchObject({ 'not-modified': expect.any(Number) });
    expect(web.requests.filter((r) => r.path === '/changing').pop()!.ifNoneMatch).toMatch(/^"/);
    expect(await svc.countEvents()).toBe(events);

    web.set('/changing', page('Version one of the advice.', 'Home Shop Contact Sale!')); // only the menu changed
    clock.tick(3 * DAY);
    await runSchedule();
    expect(await svc.countEvents()).toBe(events);

    web.set('/changing', page('Version two: drink to thirst.'));
    clock.tick(3 * DAY);
    expect((await runSchedule()).updated).toBeGreaterThanOrEqual(1);
    expect(await versions(documentId)).toEqual([
      expect.stringMatching(/^uploaded /),
      'file_replaced system:url-refresh',
    ]);
    const doc = (await svc.request('GET', `/documents/${documentId}`)).body;
    expect(doc.content).toContain('Version two: drink to thirst.');
    expect(doc.metadata.tags).toEqual(['web']);
    expect(doc.urlSource.lastChangedAt).toBe(clock.now().toISOString());
  }, 60_000);

  it('records a failed refresh with backoff, shows it on the document and in /admin/sources, and goes on', async () => {
    web.set('/flaky', page('A page that will break.'));
    const { documentId } = (await fromUrl(`${web.base}/flaky`, { refreshIntervalDays: 1 })).body;
    web.failWith('/flaky', 500);
    clock.tick(2 * DAY);
    expect((await runSchedule()).failed).toBeGreaterThanOrEqual(1);
    const doc = (await svc.request('GET', `/documents/${documentId}`)).body;
    expect(doc.urlSource).toMatchObject({
      failures: 1,
      lastError: { code: 'FETCH_FAILED', at: clock.now().toISOString() },
      nextRefreshAt: new Date(clock.now().getTime() + 3600_000).toISOString(),
    });
    const listed = await svc.request('GET', '/admin/sources?failing=true');
    expect(listed.body).toMatchObject({ nextCursor: null });
    const sources = listed.body.items;
    expect(sources.map((s: { documentId: string }) => s.documentId)).toContain(documentId);
    expect((await svc.request('GET', '/admin/sources', { as: 'editor' })).status).toBe(403);
    expect((await svc.request('GET', '/health')).status).toBe(200);
  });

  it('follows up to 5 redirects and refuses a sixth', async () => {
    web.set('/end', page('At the end of the redirects.'));
    for (let i = 1; i <= 6; i++) web.redirect(`/hop${i}`, i === 1 ? '/end' : `/hop${i - 1}`);
    expect((await fromUrl(`${web.base}/hop5`)).status).toBe(201);
    const six = await fromUrl(`${web.base}/hop6`);
    expect(six.status).toBe(502);
    expect(six.body.code).toBe('TOO_MANY_REDIRECTS');
  });

  it.each([
    ['a redirect to the cloud metadata address', '/to-metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['a redirect to a private network', '/to-private', 'http://10.1.2.3/'],
    ['a redirect to a name that resolves to loopback', '/to-localhost', 'http://localhost:9/'],
  ])('refuses %s with URL_NOT_ALLOWED, writing nothing', async (_what, path, location) => {
    web.redirect(path, location);
    const events = await svc.countEvents();
    const res = await fromUrl(`${web.base}${path}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('URL_NOT_ALLOWED');
    expect(await svc.countEvents()).toBe(events);
  });

  it('refuses private and odd URLs given directly', async () => {
    expect((await fromUrl('http://192.168.0.1/x')).body.code).toBe('URL_NOT_ALLOWED');
    expect((await fromUrl('http://[::1]:9/x')).body.code).toBe('URL_NOT_ALLOWED');
    expect((await fromUrl('ftp://example.org/x')).body.code).toBe('VALIDATION_FAILED');
  });

  it.each([
    ['announced', true],
    ['streamed', false],
  ])('stops an oversize body (%s) at the upload limit with 413 FILE_TOO_LARGE', async (what, announce) => {
    web.large(`/big-${what}`, MAX_UPLOAD_BYTES * 4, announce);
    const res = await fromUrl(`${web.base}/big-${what}`);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('FILE_TOO_LARGE');
  });

  it('stops a body that never ends at the fetch deadline with 504 FETCH_TIMEOUT', async () => {
    web.endless('/endless');
    const res = await fromUrl(`${web.base}/endless`);
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('FETCH_TIMEOUT');
  });

  it("forgets the source with the document's erasure", async () => {
    web.set('/erased', page('A page to be erased.'));
    const { documentId } = (await fromUrl(`${web.base}/erased`)).body;
    await svc.request('POST', `/documents/${documentId}/erase`, { json: { reason: 'asked' } });
    const { rows } = await svc.db.client.query('SELECT 1 FROM url_sources WHERE document_id = $1', [
      documentId,
    ]);
    expect(rows).toHaveLength(0);
  });

  it('leases each due source to one runner only: two claims at once share the work without overlap', async () => {
    for (let i = 0; i < 6; i++) web.set(`/claim-${i}`, page(`Claimable page number ${i}.`));
    const ids = await Promise.all(
      Array.from(
        { length: 6 },
        async (_, i) => (await fromUrl(`${web.base}/claim-${i}`, { refreshIntervalDays: 1 })).body.documentId,
      ),
    );
    clock.tick(400 * DAY); // everything is due, the sources of the tests above too
    const [a, b] = await Promise.all([
      urlSources.claimDue(svc.db.client, clock.now(), 1000),
      urlSources.claimDue(svc.db.client, clock.now(), 1000),
    ]);
    const claimed = [...a, ...b].map((s) => s.documentId);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed).toEqual(expect.arrayContaining(ids));
    expect(await urlSources.claimDue(svc.db.client, clock.now(), 1000)).toEqual([]);
  });

  it('imports a URL from the command line, over HTTP and on the database', async () => {
    web.set('/cli', page('A page imported from the command line.'));
    const run = await Child.runCli(
      [
        'import-url',
        `${web.base}/cli`,
        '--coach',
        'carnivore',
        '--type',
        'guide',
        '--tier',
        'free',
        '--url',
        svc.base,
        '--json',
      ],
      { DOCSVC_API_KEY: KEYS.admin },
    );
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout);
    expect(created).toMatchObject({ url: `${web.base}/cli`, version: 1 });
    const local = await runUrlImport(
      { coachId: 'carnivore', url: `${web.base}/cli`, metadata: metadata as never },
      undefined,
      {
        db: svc.db.client,
        config: loadConfig({
          ADMIN_API_KEY: 'cli-test-admin-key-0123456789',
          URL_FETCH_ALLOW_HOSTS: '127.0.0.1',
        }),
      },
    );
    expect(local).toMatchObject({ documentId: created.documentId, duplicate: true });
    const refused = await Child.runCli(
      [
        'import-url',
        'http://10.0.0.1/x',
        '--coach',
        'carnivore',
        '--type',
        'guide',
        '--tier',
        'free',
        '--url',
        svc.base,
        '--json',
      ],
      { DOCSVC_API_KEY: KEYS.admin },
    );
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('URL_NOT_ALLOWED');
  }, 60_000);
});
