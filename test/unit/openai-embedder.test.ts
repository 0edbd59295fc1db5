import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddingError } from '../../src/infrastructure/embeddings/embedder.js';
import {
  OpenAiEmbedder,
  type OpenAiEmbedderOptions,
} from '../../src/infrastructure/embeddings/openai-embedder.js';
import { tokenCount } from '../../src/infrastructure/embeddings/tokens.js';

const API_KEY = 'sk-test-0123456789-secret';
const DIMENSIONS = 8;

interface EmbeddingsRequest {
  input: string[];
  model: string;
  dimensions?: number;
  encoding_format?: string;
}

/** What the fake answers to one request: by default, the vectors of its inputs. */
type Handler = (request: EmbeddingsRequest, res: ServerResponse, req: IncomingMessage) => void;

/**
 * A local server that speaks OpenAI's embeddings API and records what it was sent. Each request is answered
 * by the next scripted handler, then by `fallback`.
 */
class FakeOpenAi {
  readonly requests: Array<{ body: EmbeddingsRequest; authorization: string | undefined }> = [];
  readonly script: Handler[] = [];
  fallback: Handler = (request, res) => json(res, 200, embeddings(request));
  onRequest: () => void = () => {};
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EmbeddingsRequest;
        this.requests.push({ body, authorization: req.headers.authorization });
        this.onRequest();
        if (req.method !== 'POST' || req.url !== '/v1/embeddings') return json(res, 404, error('not found'));
        (this.script.shift() ?? this.fallback)(body, res, req);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function error(message: string, type = 'invalid_request_error') {
  return { error: { message, type, param: null, code: null } };
}

/** A deterministic, unnormalised vector for a text: a few hashed features. */
function rawVector(text: string, dimensions: number): number[] {
  const digest = createHash('sha256').update(text).digest();
  return Array.from({ length: dimensions }, (_, i) => (digest[i % digest.length]! - 127.5) / 10);
}

function unit(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return vector.map((x) => x / norm);
}

function embeddings(request: EmbeddingsRequest, dimensions = request.dimensions ?? 1536) {
  return {
    object: 'list',
    data: request.input.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: rawVector(text, dimensions),
    })),
    model: request.model,
    usage: { prompt_tokens: 1, total_tokens: 1 },
  };
}

function expectVectors(actual: Float32Array[], texts: string[], dimensions = DIMENSIONS): void {
  expect(actual).toHaveLength(texts.length);
  actual.forEach((vector, i) => {
    expect(vector).toBeInstanceOf(Float32Array);
    const expected = unit(rawVector(texts[i]!, dimensions));
    expected.forEach((x, j) => expect(vector[j]).toBeCloseTo(x, 5));
  });
}

async function rejection(work: Promise<unknown>): Promise<EmbeddingError> {
  const caught = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(caught instanceof EmbeddingError))
    throw new Error(`expected an EmbeddingError, got ${String(caught)}`);
  return caught;
}

describe('OpenAiEmbedder', () => {
  let server: FakeOpenAi;
  let baseURL: string;
  let sleeps: number[];

  beforeEach(async () => {
    server = new FakeOpenAi();
    baseURL = await server.start();
    sleeps = [];
  });

  afterEach(() => server.stop());

  /** Waits are recorded, not waited; jitter is fixed at half the backoff. */
  const embedder = (options: Partial<OpenAiEmbedderOptions> = {}) =>
    new OpenAiEmbedder({
      apiKey: API_KEY,
      baseURL,
      dimensions: DIMENSIONS,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
      ...options,
    });

  it('names its space and knows the native dimensions of known models only', () => {
    expect(embedder()).toMatchObject({ space: `openai:text-embedding-3-small:${DIMENSIONS}` });
    const large = embedder({ model: 'text-embedding-3-large', dimensions: undefined });
    expect(large).toMatchObject({ space: 'openai:text-embedding-3-large:3072', dimensions: 3072 });
    expect(() => embedder({ model: 'my-embedder', dimensions: undefined })).toThrow(/my-embedder.*unknown/);
  });

  it('asks for floats of the configured model and size; returns unit vectors in input order', async () => {
    // The server answers in reverse order: the vectors must be placed by `index`, not by position.
    server.fallback = (request, res) => {
      const body = embeddings(request);
      json(res, 200, { ...body, data: body.data.reverse() });
    };
    const texts = ['alpha', 'beta', 'gamma', 'delta'];
    const vectors = await embedder({ model: 'text-embedding-3-large' }).embed(texts);
    expectVectors(vectors, texts);
    vectors.forEach((vector) => expect(Math.hypot(...vector)).toBeCloseTo(1, 5));
    expect(server.requests).toEqual([
      {
        body: {
          input: texts,
          model: 'text-embedding-3-large',
          dimensions: DIMENSIONS,
          encoding_format: 'float',
        },
        authorization: `Bearer ${API_KEY}`,
      },
    ]);
  });

  it('sends no dimensions when none are configured, and expects the native size', async () => {
    const vectors = await embedder({ dimensions: undefined }).embed(['one']);
    expectVectors(vectors, ['one'], 1536);
    expect(server.requests[0]!.body).not.toHaveProperty('dimensions');
  });

  it('makes no request for no texts', async () => {
    expect(await embedder().embed([])).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('batches by count', async () => {
    const texts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const vectors = await embedder({ maxBatchInputs: 3 }).embed(texts);
    expect(server.requests.map((r) => r.body.input)).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
    expectVectors(vectors, texts);
  });

  it('batches by tokens', async () => {
    const texts = ['one two three four', 'five six seven eight', 'nine ten eleven twelve', 'a b c d', 'e'];
    expect(texts.map(tokenCount)).toEqual([4, 4, 4, 4, 1]);
    const vectors = await embedder({ maxBatchTokens: 9, maxInputTokens: 9 }).embed(texts);
    expect(server.requests.map((r) => r.body.input)).toEqual([texts.slice(0, 2), texts.slice(2, 5)]);
    expectVectors(vectors, texts);
  });

  it('reports the tokens of each batch sent, for metrics', async () => {
    const texts = ['one two three four', 'five six seven eight', 'nine ten eleven twelve', 'a b c d', 'e'];
    const usage: number[] = [];
    await embedder({ maxBatchTokens: 9, maxInputTokens: 9 }).embed(texts, { usage: (n) => usage.push(n) });
    expect(usage).toEqual([8, 9]);
  });

  it('truncates an input longer than maxInputTokens, and only that one', async () => {
    const long = 'the quick brown fox jumps over the lazy dog '.repeat(20);
    await embedder({ maxInputTokens: 16 }).embed(['short', long]);
    const [short, seen] = server.requests[0]!.body.input;
    expect(short).toBe('short');
    expect(tokenCount(seen!)).toBe(16);
    expect(long.startsWith(seen!)).toBe(true);
  });

  it('keeps a truncated input within the limit where cutting between tokens re-encodes longer', async () => {
    // Emoji are several tokens each; a cut inside one decodes to a replacement character.
    const long = '😀🎉👍🏽 naïve 日本語 '.repeat(30);
    for (const max of [5, 6, 7, 11]) {
      await embedder({ maxInputTokens: max }).embed([long]);
      expect(tokenCount(server.requests.at(-1)!.body.input[0]!)).toBeLessThanOrEqual(max);
    }
  });

  it('waits at least what Retry-After asks after a 429, then succeeds', async () => {
    server.script.push((_, res) =>
      json(res, 429, error('Rate limit reached', 'requests'), { 'retry-after': '2' }),
    );
    const vectors = await embedder().embed(['x']);
    expectVectors(vectors, ['x']);
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
  });

  it('honours retry-after-ms and an HTTP-date Retry-After, capped at four times maxDelayMs', async () => {
    const later = new Date(Date.now() + 60_000).toUTCString();
    server.script.push(
      (_, res) => json(res, 429, error('slow down'), { 'retry-after-ms': '1500' }),
      (_, res) => json(res, 503, error('busy'), { 'retry-after': later }),
      (_, res) => json(res, 429, error('slow down'), { 'retry-after': '3600' }),
    );
    await embedder({ maxDelayMs: 30_000 }).embed(['x']);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[0]).toBe(1500);
    expect(sleeps[1]).toBeGreaterThan(55_000);
    expect(sleeps[1]).toBeLessThanOrEqual(60_000);
    expect(sleeps[2]).toBe(120_000);
  });

  it('retries 500s with growing backoff, full jitter', async () => {
    server.script.push(
      (_, res) => json(res, 500, error('oops', 'server_error')),
      (_, res) => json(res, 500, error('oops', 'server_error')),
    );
    const vectors = await embedder({ baseDelayMs: 500 }).embed(['x', 'y']);
    expectVectors(vectors, ['x', 'y']);
    expect(server.requests).toHaveLength(3);
    // random() = 0.5 of 500 ms, then of 1000 ms.
    expect(sleeps).toEqual([250, 500]);
  });

  it('gives up on a persistent 503 after maxRetries + 1 attempts, retryably, backoff capped', async () => {
    server.fallback = (_, res) => json(res, 503, error('The engine is currently overloaded', 'server_error'));
    const failure = await rejection(embedder({ maxRetries: 3, maxDelayMs: 600 }).embed(['x']));
    expect(failure.retryable).toBe(true);
    expect(failure.message).toMatch(/503.*overloaded/);
    expect(failure.details).toMatchObject({ status: 503, attempts: 4 });
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([250, 300, 300]);
  });

  it('retries a dropped connection', async () => {
    server.script.push((_, _res, req) => req.socket.destroy());
    expectVectors(await embedder().embed(['x']), ['x']);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a connection dropped while the body is read', async () => {
    server.script.push((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"object":"list","data":[', () => res.destroy());
    });
    expectVectors(await embedder().embed(['x']), ['x']);
    expect(server.requests).toHaveLength(2);
  });

  it('refuses at once on a 400, with the provider message', async () => {
    server.fallback = (_, res) =>
      json(res, 400, error("'$.input' is invalid. Please check the API reference"));
    const failure = await rejection(embedder().embed(['x']));
    expect(failure.retryable).toBe(false);
    expect(failure.message).toContain("'$.input' is invalid");
    expect(failure.details).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('refuses at once on a 401 and never repeats the API key, even when the provider quotes it', async () => {
    server.fallback = (_, res) => json(res, 401, error(`Incorrect API key provided: ${API_KEY}.`));
    const failure = await rejection(embedder().embed(['x']));
    expect(failure.retryable).toBe(false);
    expect(failure.message).toContain('Incorrect API key provided');
    expect(failure.details).toMatchObject({ status: 401 });
    expect(failure.message).not.toContain(API_KEY);
    expect(JSON.stringify(failure.details)).not.toContain(API_KEY);
    expect(failure.stack).not.toContain(API_KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses vectors of the wrong size, without retrying', async () => {
    server.fallback = (request, res) => json(res, 200, embeddings(request, DIMENSIONS + 1));
    const failure = await rejection(embedder().embed(['x']));
    expect(failure.retryable).toBe(false);
    expect(failure.message).toMatch(/9 numbers/);
    expect(server.requests).toHaveLength(1);
  });

  it('times out a server that never answers, retryably, after retrying', async () => {
    server.fallback = () => {};
    const failure = await rejection(embedder({ timeoutMs: 200, maxRetries: 1 }).embed(['x']));
    expect(failure.retryable).toBe(true);
    expect(failure.message).toMatch(/timed out/);
    // One backoff: it tried twice. (The server may not have seen a request a loaded machine sent late.)
    expect(sleeps).toHaveLength(1);
  });

  it('times out a response whose body never ends (the client times out the headers only)', async () => {
    server.fallback = (_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"object":"list","data":[');
    };
    const failure = await rejection(embedder({ timeoutMs: 200, maxRetries: 1 }).embed(['x']));
    expect(failure.retryable).toBe(true);
    expect(failure.message).toMatch(/timed out/);
    // One backoff: it tried twice. (The server may not have seen a request a loaded machine sent late.)
    expect(sleeps).toHaveLength(1);
  });

  it('rethrows the caller’s abort during a request, without retrying', async () => {
    const controller = new AbortController();
    server.fallback = () => {};
    server.onRequest = () => controller.abort(new Error('caller gave up'));
    const work = embedder().embed(['x'], { signal: controller.signal });
    await expect(work).rejects.toThrow('caller gave up');
    expect(server.requests).toHaveLength(1);
  });

  it('rethrows the caller’s abort during a backoff', async () => {
    const controller = new AbortController();
    server.fallback = (_, res) => json(res, 503, error('busy'));
    const sleep = async () => controller.abort(new Error('caller gave up'));
    await expect(embedder({ sleep }).embed(['x'], { signal: controller.signal })).rejects.toThrow(
      'caller gave up',
    );
    expect(server.requests).toHaveLength(1);
  });
});
