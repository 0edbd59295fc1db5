/**
 * A local server speaking OpenAI's embeddings API (the network boundary we do not own), for the tests and the
 * fault checks (reliability/faults, scenario d), and the environment that points the service at it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type ProviderMode = 'ok' | 'fail500' | 'fail429' | 'hang';

/**
 * Speaks OpenAI's `POST /v1/embeddings`; vectors are hashed bags of words (deterministic, related texts close).
 * Its mode says how it answers: `ok`, `500`, `429` (Retry-After: 1), or `hang` (headers never sent; the held
 * requests are cut when the mode changes, as a provider that comes back does with its stuck connections).
 */
export interface EmbeddingsRequest {
  input: string[];
  model: string;
  dimensions?: number;
  encoding_format?: string;
}

export class FakeEmbeddings {
  mode: ProviderMode = 'ok';
  /** Every request's body, as received. */
  readonly requests: EmbeddingsRequest[] = [];
  /** Answers for the next requests, whatever the mode (a status and headers each). */
  failures: Array<{ status: number; headers?: Record<string, string> }> = [];
  readonly answered: Record<ProviderMode, number> = { ok: 0, fail500: 0, fail429: 0, hang: 0 };
  /** Texts embedded successfully (a chunk's text and a query's). */
  embeddedTexts = 0;
  private server!: Server;
  private held: ServerResponse[] = [];
  /** Called on each request before it is answered (tests move the mode on a count of requests). */
  onRequest: ((mode: ProviderMode) => void) | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
  }

  setMode(mode: ProviderMode): void {
    this.mode = mode;
    if (mode !== 'hang') {
      for (const res of this.held) res.destroy();
      this.held = [];
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as EmbeddingsRequest;
      this.requests.push(parsed);
      this.onRequest?.(this.mode);
      const mode = this.mode;
      this.answered[mode]++;
      if (mode === 'hang') return void this.held.push(res);
      // A deterministic refusal, as for an input the provider will never accept; then the queued failures.
      const failure = parsed.input.some((t) => t.includes('REFUSE-ME'))
        ? { status: 400 }
        : (this.failures.shift() ?? modeFailure(mode));
      if (failure) {
        res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
        const error = { message: `fake ${failure.status}`, type: 'server_error' };
        return void res.end(JSON.stringify({ error }));
      }
      this.embeddedTexts += parsed.input.length;
      const data = parsed.input.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: bagOfWords(text, parsed.dimensions ?? 64),
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data,
          model: parsed.model,
          usage: { prompt_tokens: 1, total_tokens: 1 },
        }),
      );
    });
  }

  close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held = [];
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function modeFailure(mode: ProviderMode): { status: number; headers?: Record<string, string> } | undefined {
  if (mode === 'fail500') return { status: 500 };
  if (mode === 'fail429') return { status: 429, headers: { 'retry-after': '1' } };
  return undefined;
}

function bagOfWords(text: string, dims: number): number[] {
  const v: number[] = Array.from({ length: dims }, () => 0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    v[createHash('sha256').update(word).digest().readUInt32LE(0) % dims]! += 1;
  }
  if (!v.some((x) => x !== 0)) v[0] = 1;
  return v;
}

export const EMBEDDINGS_ENV = (baseUrl: string): Record<string, string> => ({
  EMBEDDINGS_PROVIDER: 'openai',
  OPENAI_BASE_URL: baseUrl,
  OPENAI_API_KEY: 'sk-faults-0123456789',
  EMBEDDINGS_MODEL: 'fake-embed',
  EMBEDDINGS_DIMENSIONS: '64',
});
