import { EmbeddingError, type Embedder } from '../../src/infrastructure/embeddings/embedder.js';
import {
  measuredEmbedder,
  noEmbeddingRecorder,
} from '../../src/infrastructure/embeddings/measured-embedder.js';
import { ExtractionError } from '../../src/infrastructure/extraction/extraction.js';
import { measuredExtractor } from '../../src/infrastructure/extraction/measured-extractor.js';
import { Metrics } from '../../src/infrastructure/metrics/metrics.js';
import { parsePrometheusText, valueOf } from '../support/prometheus-text.js';

const clock = { now: () => new Date('2026-03-01T02:00:00Z') };
const scrape = async (metrics: Metrics) => parsePrometheusText(await metrics.scrape());

/** An embedder that counts tokens as a provider would (one a word), or fails as an unreachable provider. */
const fakeProvider = (fail = false): Embedder => ({
  space: 'fake:words:4',
  dimensions: 4,
  async embed(texts, options = {}) {
    if (fail) throw new EmbeddingError('the provider could not be reached', true);
    options.usage?.(texts.reduce((n, t) => n + t.split(' ').length, 0));
    return texts.map(() => Float32Array.from([1, 0, 0, 0]));
  },
});

describe('Metrics', () => {
  it('records maintenance runs by result, with the last success and duration', async () => {
    const metrics = new Metrics(clock);
    metrics.maintenanceRun({ result: 'ok', seconds: 12 });
    metrics.maintenanceRun({ result: 'repaired', seconds: 30 });
    metrics.maintenanceRun({ result: 'skipped' });
    const m = await scrape(metrics);
    expect(valueOf(m, 'docsvc_maintenance_runs_total', { result: 'ok' })).toBe(1);
    expect(valueOf(m, 'docsvc_maintenance_runs_total', { result: 'repaired' })).toBe(1);
    expect(valueOf(m, 'docsvc_maintenance_runs_total', { result: 'skipped' })).toBe(1);
    expect(valueOf(m, 'docsvc_maintenance_last_success_timestamp_seconds')).toBe(
      clock.now().getTime() / 1000,
    );
    expect(valueOf(m, 'docsvc_maintenance_last_duration_seconds')).toBe(30);
  });

  it('records backups by kind and result; the size and time are those of the last successful one', async () => {
    const metrics = new Metrics(clock);
    metrics.backupRun({ kind: 'full', result: 'ok', bytes: 5_000, seconds: 3 });
    metrics.backupRun({ kind: 'full', result: 'failed', seconds: 1 });
    metrics.backupRun({ kind: 'incremental', result: 'ok', bytes: 200 });
    const m = await scrape(metrics);
    expect(valueOf(m, 'docsvc_backups_total', { kind: 'full', result: 'ok' })).toBe(1);
    expect(valueOf(m, 'docsvc_backups_total', { kind: 'full', result: 'failed' })).toBe(1);
    expect(valueOf(m, 'docsvc_backup_bytes', { kind: 'full' })).toBe(5_000);
    expect(valueOf(m, 'docsvc_backup_bytes', { kind: 'incremental' })).toBe(200);
    const at = clock.now().getTime() / 1000;
    expect(valueOf(m, 'docsvc_backup_last_success_timestamp_seconds', { kind: 'full' })).toBe(at);
  });

  it("counts an embedder's calls, texts and the tokens its provider reports, apart by purpose", async () => {
    const metrics = new Metrics(clock);
    const index = measuredEmbedder(fakeProvider(), metrics, 'index');
    await index.embed(['two words', 'three more words']);
    await measuredEmbedder(fakeProvider(), metrics, 'query').embed(['one']);
    const failing = measuredEmbedder(fakeProvider(true), metrics, 'query');
    await expect(failing.embed(['lost'])).rejects.toBeInstanceOf(EmbeddingError);
    const m = await scrape(metrics);
    expect(valueOf(m, 'docsvc_embedding_calls_total', { purpose: 'index', result: 'ok' })).toBe(1);
    expect(valueOf(m, 'docsvc_embedding_texts_total', { purpose: 'index' })).toBe(2);
    expect(valueOf(m, 'docsvc_embedding_tokens_total', { purpose: 'index' })).toBe(5);
    expect(valueOf(m, 'docsvc_embedding_tokens_total', { purpose: 'query' })).toBe(1);
    expect(valueOf(m, 'docsvc_embedding_calls_total', { purpose: 'query', result: 'error' })).toBe(1);
    expect(index.space).toBe('fake:words:4');
  });

  it('leaves an embedder as it is without a recorder', () => {
    const embedder = fakeProvider();
    expect(measuredEmbedder(embedder, noEmbeddingRecorder, 'index')).toBe(embedder);
  });

  it("counts extractions by type and outcome, the error's code for a refused file", async () => {
    const metrics = new Metrics(clock);
    const extractor = measuredExtractor(
      {
        extract: async (bytes) => {
          if (bytes.length === 0) throw new ExtractionError('EMPTY_FILE', 'the file is empty');
          return { type: 'text', contentType: 'text/plain', text: 'x', sections: [] };
        },
      },
      metrics,
    );
    await extractor.extract(new Uint8Array([120]));
    await expect(extractor.extract(new Uint8Array())).rejects.toBeInstanceOf(ExtractionError);
    const m = await scrape(metrics);
    expect(valueOf(m, 'docsvc_extractions_total', { type: 'text', outcome: 'ok' })).toBe(1);
    expect(valueOf(m, 'docsvc_extractions_total', { type: 'unknown', outcome: 'EMPTY_FILE' })).toBe(1);
  });
});

describe('the Prometheus text reader of the tests', () => {
  it('refuses what Prometheus would refuse', () => {
    const typed = '# TYPE x counter\n';
    expect(() => parsePrometheusText(`${typed}x 1`)).toThrow(/newline/);
    expect(() => parsePrometheusText('y 1\n')).toThrow(/without a TYPE/);
    expect(() => parsePrometheusText(`${typed}x{a="1" 1\n`)).toThrow(/not a sample/);
    expect(() => parsePrometheusText(`${typed}x{a="1",a="2"} 1\n`)).toThrow(/twice/);
    expect(() => parsePrometheusText(`${typed}x one\n`)).toThrow(/not a sample/);
    expect(() => parsePrometheusText(`${typed}${typed}`)).toThrow(/second TYPE/);
    const histogram = '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n';
    expect(() => parsePrometheusText(histogram)).toThrow(/cumulative/);
  });

  it('reads labels with escapes and special values', () => {
    const m = parsePrometheusText('# HELP x a help\n# TYPE x gauge\nx{a="q\\"\\\\n"} NaN\nx{a="b"} +Inf\n');
    expect(m.samples[0]).toEqual({ name: 'x', labels: { a: 'q"\\n' }, value: NaN });
    expect(valueOf(m, 'x', { a: 'b' })).toBe(Infinity);
  });
});
