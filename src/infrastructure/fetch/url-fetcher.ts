import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.js';
import { FetchError } from './fetch-errors.js';

export interface FetchLimits {
  maxBytes: number;
  /** The whole fetch, redirects and body included: a slow body is stopped at this deadline. */
  timeoutMs: number;
  maxRedirects: number;
}

/** What a previous fetch answered, sent back so that an unchanged page costs a 304. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type Fetched =
  | { notModified: true }
  | { notModified: false; url: string; bytes: Buffer; contentType?: string; validators: Validators };

export const URL_FETCHER = Symbol('URL_FETCHER');

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET of a URL source, made safe to point at anything a user types: http and https only; every connection's
 * addresses checked by the policy after DNS resolution (the check is the connection's own `lookup`, so a name
 * that resolves to a public address when checked and a private one when connected cannot slip through); each
 * redirect checked again, at most `maxRedirects`; the body bounded in bytes (Content-Length first) and the whole
 * fetch in time. Bodies are asked for uncompressed, so the byte limit is the bytes that arrive.
 */
export class UrlFetcher {
  constructor(
    private readonly policy: AddressPolicy,
    private readonly limits: FetchLimits,
    private readonly userAgent = 'docsvc (URL sources)',
  ) {}

  async fetch(url: string, validators: Validators = {}): Promise<Fetched> {
    const signal = AbortSignal.timeout(this.limits.timeoutMs);
    let current = parseUrl(url);
    for (let hop = 0; ; hop++) {
      const response = await this.get(current, validators, signal);
      const location = response.headers.location;
      if (REDIRECTS.has(response.statusCode ?? 0) && location) {
        response.resume();
        if (hop >= this.limits.maxRedirects)
          throw new FetchError(
            'TOO_MANY_REDIRECTS',
            `more than ${this.limits.maxRedirects} redirects from ${url}`,
          );
        current = parseUrl(new URL(location, current).toString());
        continue;
      }
      if (response.statusCode === 304) {
        response.resume();
        return { notModified: true };
      }
      if (!response.statusCode || response.statusCode < 200 || response.statusCode > 299) {
        response.resume();
        throw new FetchError('FETCH_FAILED', `${current} answered HTTP ${response.statusCode}`, {
          status: response.statusCode,
        });
      }
      const bytes = await this.body(response, current, signal);
      return {
        notModified: false,
        url: current.toString(),
        bytes,
        contentType: response.headers['content-type'],
        validators: {
          ...(response.headers.etag ? { etag: response.headers.etag } : {}),
          ...(response.headers['last-modified'] ? { lastModified: response.headers['last-modified'] } : {}),
        },
      };
    }
  }

  private get(url: URL, validators: Validators, signal: AbortSignal): Promise<IncomingMessage> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An address literal is connected to without a lookup: it is checked here instead.
    if (isIP(host)) this.policy.check(host, [host]);
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: 'text/html, application/xhtml+xml, application/pdf, text/markdown, text/plain;q=0.9, */*;q=0.5',
      'accept-encoding': 'identity',
      ...(validators.etag ? { 'if-none-match': validators.etag } : {}),
      ...(validators.lastModified ? { 'if-modified-since': validators.lastModified } : {}),
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.get(url, { headers, signal, lookup: this.checkedLookup(host), agent: false });
      request.once('response', resolve);
      request.once('error', (error) => reject(failure(error, url, signal)));
    });
  }

  /** DNS resolution whose every answer must pass the policy before the socket connects. */
  private checkedLookup(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, found) => {
        if (error) return callback(error, '', 0);
        const addresses = found as unknown as LookupAddress[];
        try {
          this.policy.check(
            host,
            addresses.map((a) => a.address),
          );
        } catch (refused) {
          return callback(refused as NodeJS.ErrnoException, '', 0);
        }
        if (options.all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    };
  }

  private async body(response: IncomingMessage, url: URL, signal: AbortSignal): Promise<Buffer> {
    const { maxBytes } = this.limits;
    const declared = Number(response.headers['content-length'] ?? NaN);
    const tooLarge = () =>
      new FetchError('FILE_TOO_LARGE', `${url} is larger than ${maxBytes} bytes`, { maxBytes });
    if (declared > maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response) {
        size += (chunk as Buffer).byteLength;
        if (size > maxBytes) {
          response.destroy();
          throw tooLarge();
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      throw failure(error as Error, url, signal);
    }
    return Buffer.concat(chunks);
  }
}

function parseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FetchError('URL_NOT_ALLOWED', `"${value.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FetchError('URL_NOT_ALLOWED', `only http and https URLs are fetched, not ${url.protocol}`);
  if (url.username || url.password)
    throw new FetchError('URL_NOT_ALLOWED', 'a URL with a user name or password is not fetched');
  return url;
}

function failure(error: Error, url: URL, signal: AbortSignal): Error {
  if (error instanceof FetchError) return error;
  if (signal.aborted) return new FetchError('FETCH_TIMEOUT', `fetching ${url} took too long and was stopped`);
  const code = (error as NodeJS.ErrnoException).code;
  return new FetchError('FETCH_FAILED', `${url} could not be fetched (${code ?? error.message})`);
}
