import { collectDefaultMetrics, Registry } from 'prom-client';
import { AppError } from '../../domain/errors.js';
import { systemClock, type Clock } from '../clock/clock.js';
import type { EmbeddingCall, EmbeddingRecorder } from '../embeddings/measured-embedder.js';
import type { AppendRecorder } from '../event-store/append-recorder.js';
import { parsePosition } from '../event-store/position.js';
import type { ExtractionOutcome, ExtractionRecorder } from '../extraction/measured-extractor.js';
import type { DetectedType } from '../extraction/extraction.js';
import type { HttpRecorder, ObservedRequest } from '../http/request-observer.js';
import type { ProjectionStatus } from '../projections/projection-engine.js';
import { defineMetrics } from './metric-definitions.js';
import type {
  BackupRecorder,
  BackupRun,
  MaintenanceRecorder,
  MaintenanceRun,
} from './operations-recorder.js';

/** Where documents come from in bulk: POST /imports/csv, a folder import, a URL source and its refreshes. */
export type ImportSource = 'csv' | 'folder' | 'url' | 'url_refresh';

export interface SearchTiming {
  mode: 'hybrid' | 'vector' | 'text';
  /** The query cache answered (`hit`), or the search ran (`miss`; `off` when the cache is off). */
  cache: 'hit' | 'miss' | 'off';
  seconds: number;
}

/** An import's or extraction's failure as an outcome label: its stable code. */
export function outcomeOf(error: unknown): string {
  return error instanceof AppError ? error.code : 'INTERNAL_ERROR';
}

/** A global position as a number for a gauge: its sequence number (the transaction id only orders late commits). */
const sequenceOf = (position: string | null | undefined): number =>
  position ? Number(parsePosition(position).seq) : 0;

/**
 * The service's Prometheus metrics, on a registry of its own: one per application instance (tests run several in
 * one process), never prom-client's global one. It implements the small recorder interfaces that the
 * infrastructure's Nest-free code takes (event store, embedder, extractor, HTTP, maintenance, backups).
 */
export class Metrics
  implements
    AppendRecorder,
    EmbeddingRecorder,
    ExtractionRecorder,
    HttpRecorder,
    MaintenanceRecorder,
    BackupRecorder
{
  readonly registry = new Registry();
  private readonly refreshers: Array<() => Promise<void>> = [];

  private readonly m = defineMetrics(this.registry);

  constructor(private readonly clock: Clock = systemClock) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The text of a scrape: gauges that are read from the database (projections) are refreshed first. */
  async scrape(): Promise<string> {
    for (const refresh of this.refreshers) await refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The projections' positions and lags, read at every scrape from `status` (ProjectionEngine.status). */
  watchProjections(status: () => Promise<readonly ProjectionStatus[]>): void {
    this.refreshers.push(async () => {
      const statuses = await status();
      this.m.projectionPosition.reset();
      this.m.projectionLag.reset();
      for (const p of statuses) {
        const labels = { projection: p.name, version: String(p.version), kind: p.kind };
        this.m.projectionPosition.set(labels, sequenceOf(p.position));
        this.m.projectionLag.set(labels, p.lag);
        if (p.kind === 'inline') this.m.head.set(sequenceOf(p.position));
      }
    });
  }

  httpRequest({ method, route, status, seconds }: ObservedRequest): void {
    this.m.http.observe({ method, route, status: String(status) }, seconds);
  }

  appended(types: readonly string[]): void {
    const counts = new Map<string, number>();
    for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
    for (const [type, n] of counts) this.m.events.inc({ type }, n);
  }

  embedded({ purpose, texts, tokens, ok }: EmbeddingCall): void {
    this.m.embeddingCalls.inc({ purpose, result: ok ? 'ok' : 'error' });
    this.m.embeddingTexts.inc({ purpose }, texts);
    if (tokens > 0) this.m.embeddingTokens.inc({ purpose }, tokens);
  }

  cacheLookups(_space: string, hits: number, misses: number): void {
    if (hits > 0) this.m.embeddingCache.inc({ result: 'hit' }, hits);
    if (misses > 0) this.m.embeddingCache.inc({ result: 'miss' }, misses);
  }

  searched({ mode, cache, seconds }: SearchTiming): void {
    this.m.search.observe({ mode, cache }, seconds);
  }

  imported(source: ImportSource, outcome: string, count = 1): void {
    if (count > 0) this.m.imports.inc({ source, outcome }, count);
  }

  extracted(type: DetectedType | 'unknown', outcome: ExtractionOutcome): void {
    this.m.extractions.inc({ type, outcome });
  }

  maintenanceRun({ result, seconds }: MaintenanceRun): void {
    this.m.maintenance.inc({ result });
    if (seconds !== undefined) this.m.maintenanceDuration.set(seconds);
    if (result !== 'failed' && result !== 'skipped') this.m.maintenanceSuccess.set(this.unixNow());
  }

  backupRun({ kind, result, bytes, seconds }: BackupRun): void {
    this.m.backups.inc({ kind, result });
    if (seconds !== undefined) this.m.backupDuration.set({ kind }, seconds);
    if (result !== 'ok') return;
    if (bytes !== undefined) this.m.backupBytes.set({ kind }, bytes);
    this.m.backupSuccess.set({ kind }, this.unixNow());
  }

  private unixNow(): number {
    return this.clock.now().getTime() / 1000;
  }
}
