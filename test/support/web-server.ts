import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

type Page = (res: ServerResponse, headers: IncomingHttpHeaders) => void;

/**
 * A local web server for URL sources: pages a test sets and changes, with ETags answered by 304, and the
 * misbehaviours a fetcher must survive (redirect chains, redirects to private addresses, oversize and endless
 * bodies). It records each request's path and conditional header.
 */
export class WebServer {
  readonly requests: Array<{ path: string; ifNoneMatch?: string }> = [];
  private readonly pages = new Map<string, Page>();
  private server!: Server;
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.requests.push({
        path,
        ...(req.headers['if-none-match'] ? { ifNoneMatch: req.headers['if-none-match'] } : {}),
      });
      const page = this.pages.get(path);
      if (!page) return void res.writeHead(404).end('not found');
      page(res, req.headers);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** A page with an ETag of its bytes; a request that sends it back gets 304. */
  set(path: string, body: string | Buffer, contentType = 'text/html; charset=utf-8'): void {
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    this.pages.set(path, (res, headers) => {
      if (headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
      res
        .writeHead(200, { 'content-type': contentType, etag, 'content-length': Buffer.byteLength(body) })
        .end(body);
    });
  }

  failWith(path: string, status: number): void {
    this.pages.set(path, (res) => void res.writeHead(status).end(`status ${status}`));
  }

  redirect(path: string, location: string): void {
    this.pages.set(path, (res) => void res.writeHead(302, { location }).end());
  }

  /** `bytes` sent in chunks, with or without announcing them: the fetcher must stop at its limit either way. */
  large(path: string, bytes: number, announce: boolean): void {
    this.pages.set(path, (res) => {
      res.writeHead(200, { 'content-type': 'text/plain', ...(announce ? { 'content-length': bytes } : {}) });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const more = () => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
  }

  /** Headers, a first line, then nothing more: only the fetcher's deadline ends it. */
  endless(path: string): void {
    this.pages.set(path, (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('The first line of a body that never ends.\n');
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
