import { createServer, type Server } from 'node:http';
import { AddressPolicy, isPublic } from '../../src/infrastructure/fetch/address-policy.js';
import { UrlFetcher } from '../../src/infrastructure/fetch/url-fetcher.js';

describe('the address policy', () => {
  it.each([
    ['8.8.8.8', true],
    ['2001:4860:4860::8888', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:8.8.8.8', true],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublic(address)).toBe(expected);
  });

  it('lets a named host through, and only that host', () => {
    const policy = new AddressPolicy(['wiki.internal']);
    expect(() => policy.check('wiki.internal', ['10.0.0.5'])).not.toThrow();
    expect(() => policy.check('other.internal', ['10.0.0.5'])).toThrow(/10\.0\.0\.5, a private address/);
  });
});

describe('the URL fetcher', () => {
  let server: Server;
  let base: string;
  const seen: Array<Record<string, string | undefined>> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, ifModifiedSince: req.headers['if-modified-since'] });
      if (req.url === '/moved') return void res.writeHead(301, { location: '/dated' }).end();
      if (req.headers['if-modified-since'] === 'Tue, 01 Jan 2030 00:00:00 GMT')
        return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'text/plain', 'last-modified': 'Tue, 01 Jan 2030 00:00:00 GMT' });
      res.end('dated text');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const fetcher = () =>
    new UrlFetcher(new AddressPolicy(['127.0.0.1']), { maxBytes: 1000, timeoutMs: 5000, maxRedirects: 5 });

  it('follows a relative redirect, keeps Last-Modified, and gets a 304 when it sends it back', async () => {
    const first = await fetcher().fetch(`${base}/moved`);
    expect(first).toMatchObject({
      notModified: false,
      url: `${base}/dated`,
      validators: { lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' },
    });
    const again = await fetcher().fetch(`${base}/dated`, { lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' });
    expect(again).toEqual({ notModified: true });
    expect(seen.pop()).toMatchObject({ ifModifiedSince: 'Tue, 01 Jan 2030 00:00:00 GMT' });
  });

  it.each([
    ['a user name and password', 'http://user:pw@example.org/'],
    ['a file URL', 'file:///etc/passwd'],
    ['an IPv4-mapped loopback address', 'http://[::ffff:7f00:1]/'],
    ['not a URL', 'not a url'],
  ])('refuses %s with URL_NOT_ALLOWED before connecting', async (_what, url) => {
    await expect(fetcher().fetch(url)).rejects.toMatchObject({ code: 'URL_NOT_ALLOWED', status: 400 });
  });
});
