import { setTimeout as delay } from 'node:timers/promises';
import OpenAI, { APIError } from 'openai';
import { EmbeddingError, type EmbedOptions, type Embedder } from './embedder.js';
import { tokenCount, truncateToTokens } from './tokens.js';

export interface OpenAiEmbedderOptions {
  apiKey: string;
  /** e.g. `https://api.openai.com/v1` (the default) or any server that speaks its embeddings API. */
  baseURL?: string;
  /** Default `text-embedding-3-small`. */
  model?: string;
  /** Sent to the API only when set; otherwise the model's native size, which must then be known. */
  dimensions?: number;
  /** Inputs per request (the API accepts up to 2048). Default 256. */
  maxBatchInputs?: number;
  /** Sum of the inputs' tokens per request (the API refuses 300 000). Default 100 000. */
  maxBatchTokens?: number;
  /** Longer inputs are truncated to this many tokens (the models' limit is 8191). */
  maxInputTokens?: number;
  /** Retries per request after its first attempt. Default 6. */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt, until the whole response has been read. Default 60 s. */
  timeoutMs?: number;
  /** Injectable for tests; the default waits, and stops waiting when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter in [0, 1); injectable for tests. */
  random?: () => number;
}

/** The vector sizes of OpenAI's embedding models, when EMBEDDINGS_DIMENSIONS does not ask for another. */
export const NATIVE_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

export const DEFAULT_OPENAI_MODEL = 'text-embedding-3-small';

/**
 * Embeddings from OpenAI's API (or a compatible server). Inputs are truncated to the model's token limit and
 * sent in batches bounded by count and by tokens, one batch at a time; the vectors come back in input order
 * (by each item's `index`, not by position), checked for size and normalised to unit length.
 *
 * The client's own retries are off: it would retry 409 too, and sleep on its own clock. Here 408, 409, 429,
 * 5xx, timeouts and network failures are retried with exponential backoff and full jitter, waiting at least
 * what the server asks (`retry-after-ms`, `Retry-After`), and end in a retryable EmbeddingError; any other
 * refusal ends at once in a non-retryable one. The client's `timeout` only runs until the response headers
 * arrive, so each attempt also has a deadline of its own covering the body.
 */
export class OpenAiEmbedder implements Embedder {
  readonly space: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly requestDimensions: number | undefined;
  private readonly o: Required<Omit<OpenAiEmbedderOptions, 'apiKey' | 'baseURL' | 'dimensions' | 'model'>>;

  constructor(options: OpenAiEmbedderOptions) {
    const { apiKey, baseURL, model = DEFAULT_OPENAI_MODEL, dimensions } = options;
    const native = NATIVE_DIMENSIONS[model];
    if (!apiKey) throw new Error('the OpenAI embedder needs an API key');
    if (dimensions === undefined && native === undefined) {
      throw new Error(`the dimensions of the embedding model "${model}" are unknown: configure them`);
    }
    this.model = model;
    this.requestDimensions = dimensions;
    this.dimensions = dimensions ?? (native as number);
    this.space = `openai:${model}:${this.dimensions}`;
    this.o = {
      maxBatchInputs: options.maxBatchInputs ?? 256,
      maxBatchTokens: options.maxBatchTokens ?? 100_000,
      maxInputTokens: options.maxInputTokens ?? 8191,
      maxRetries: options.maxRetries ?? 6,
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? 60_000,
      sleep: options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
      random: options.random ?? Math.random,
    };
    const { maxBatchInputs, maxBatchTokens, maxInputTokens } = this.o;
    if (![this.dimensions, maxBatchInputs, maxInputTokens].every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error('dimensions, maxBatchInputs and maxInputTokens must be positive integers');
    }
    if (maxInputTokens > maxBatchTokens) throw new Error('maxInputTokens must not exceed maxBatchTokens');
    // Explicit nulls and a default base URL: the client would otherwise read OPENAI_BASE_URL, OPENAI_ORG_ID
    // and OPENAI_PROJECT_ID from the environment. (It still reads OPENAI_CUSTOM_HEADERS and OPENAI_LOG.)
    this.client = new OpenAI({
      apiKey,
      baseURL: baseURL ?? 'https://api.openai.com/v1',
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: this.o.timeoutMs,
    });
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (const batch of this.batches(texts.map((text) => this.truncated(text)))) {
      vectors.push(...(await this.withRetries(batch.texts, options.signal)));
      options.usage?.(batch.tokens);
    }
    return vectors;
  }

  /**
   * The input within `maxInputTokens`. A cut token sequence can decode to text that re-encodes longer
   * (gpt-tokenizer puts a U+FFFD for a split character), so the result is counted again.
   */
  private truncated(text: string): { text: string; tokens: number } {
    let tokens = tokenCount(text);
    for (let limit = this.o.maxInputTokens; tokens > this.o.maxInputTokens; limit--) {
      text = truncateToTokens(text, limit);
      tokens = tokenCount(text);
    }
    return { text, tokens };
  }

  private *batches(
    inputs: Array<{ text: string; tokens: number }>,
  ): Generator<{ texts: string[]; tokens: number }> {
    let batch: string[] = [];
    let tokens = 0;
    for (const input of inputs) {
      if (batch.length === this.o.maxBatchInputs || tokens + input.tokens > this.o.maxBatchTokens) {
        yield { texts: batch, tokens };
        [batch, tokens] = [[], 0];
      }
      batch.push(input.text);
      tokens += input.tokens;
    }
    if (batch.length > 0) yield { texts: batch, tokens };
  }

  private async withRetries(batch: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    for (let attempt = 0; ; attempt++) {
      let data: OpenAI.Embedding[];
      try {
        data = await this.attempt(batch, signal);
      } catch (thrown) {
        if (signal?.aborted) throw signal.reason;
        const error = this.classified(thrown);
        if (!error.retryable) throw error;
        if (attempt >= this.o.maxRetries) {
          const attempts = attempt + 1;
          const message = `${error.message} (gave up after ${attempts} attempts)`;
          throw new EmbeddingError(message, true, { ...error.details, attempts });
        }
        // Full jitter over an exponential cap; what the server asks for is a floor, within reason.
        const backoff = this.o.random() * Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** attempt);
        const asked = (error.details.retryAfterMs as number | undefined) ?? 0;
        await this.o.sleep(Math.min(Math.max(asked, backoff), this.o.maxDelayMs * 4), signal);
        continue;
      }
      return this.checked(data, batch.length);
    }
  }

  /** One request, under a deadline of its own that also covers reading the body. */
  private async attempt(batch: string[], signal: AbortSignal | undefined): Promise<OpenAI.Embedding[]> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const abort = (): void => controller.abort(signal?.reason);
    const timer = setTimeout(() => controller.abort(new TimedOut()), this.o.timeoutMs);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const response = await this.client.embeddings.create(
        {
          model: this.model,
          input: batch,
          encoding_format: 'float',
          ...(this.requestDimensions !== undefined && { dimensions: this.requestDimensions }),
        },
        { signal: controller.signal },
      );
      return response.data;
    } catch (error) {
      throw controller.signal.reason instanceof TimedOut ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }

  /**
   * Anything thrown while requesting is the provider's doing or the network's (a connection dropped while the
   * body is read surfaces as undici's bare `TypeError: terminated`, not as an APIError); only a status that
   * says the input or the account is refused is final.
   */
  private classified(error: unknown): EmbeddingError {
    // Our deadline, undici's errors, the client's connection errors and timeouts (APIErrors without status).
    if (!(error instanceof APIError) || error.status === undefined) {
      const reason = error instanceof Error ? error.message : String(error);
      return new EmbeddingError(`the embeddings provider could not be reached: ${reason}`, true, { reason });
    }
    const status = error.status;
    const body = (error.error ?? {}) as { message?: unknown };
    const providerMessage = this.redacted(typeof body.message === 'string' ? body.message : error.message);
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const wait = retryable ? retryAfterMs(error.headers) : undefined;
    return new EmbeddingError(`the embeddings provider answered ${status}: ${providerMessage}`, retryable, {
      status,
      providerMessage,
      ...(error.code && { code: error.code }),
      ...(error.type && { type: error.type }),
      ...(error.requestID && { requestId: error.requestID }),
      ...(wait !== undefined && { retryAfterMs: wait }),
    });
  }

  /** In input order (by `index`), each of `dimensions` finite numbers, scaled to unit length. */
  private checked(data: OpenAI.Embedding[], count: number): Float32Array[] {
    const refuse = (reason: string): never => {
      throw new EmbeddingError(`the embeddings provider answered malformed vectors: ${reason}`, false, {
        model: this.model,
        dimensions: this.dimensions,
      });
    };
    if (!Array.isArray(data) || data.length !== count) refuse(`expected ${count} vectors`);
    const vectors = new Array<Float32Array | undefined>(count);
    for (const { index, embedding } of data) {
      if (!Number.isInteger(index) || index < 0 || index >= count || vectors[index]) refuse(`index ${index}`);
      if (!Array.isArray(embedding) || embedding.length !== this.dimensions) {
        refuse(`vector ${index} has ${Array.isArray(embedding) ? embedding.length : 'no'} numbers`);
      }
      const norm = Math.sqrt(embedding.reduce((sum, x) => sum + x * x, 0));
      if (!Number.isFinite(norm) || norm === 0) refuse(`vector ${index} cannot be normalised`);
      vectors[index] = Float32Array.from(embedding, (x) => x / norm);
    }
    return vectors as Float32Array[];
  }

  /** A provider's message may quote the key it was sent (401s do, in part); it never leaves here whole. */
  private redacted(message: string): string {
    return message.split(this.client.apiKey ?? '\0').join('[redacted]');
  }
}

class TimedOut extends Error {
  constructor() {
    super('the request timed out');
  }
}

/** What the server asks us to wait: `retry-after-ms`, else `Retry-After` (seconds or an HTTP date). */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return Math.max(0, ms);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
