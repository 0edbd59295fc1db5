import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Latency buckets, in seconds, from a cached read to a large upload. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Every metric of the service, registered on `registry` (docs/observability.md lists them). Names carry the
 * `docsvc_` prefix and Prometheus's unit suffixes; labels have few values each (route patterns, never URLs).
 */
export function defineMetrics(registry: Registry) {
  const registers = [registry];
  return {
    http: new Histogram({
      name: 'docsvc_http_request_duration_seconds',
      help: 'HTTP requests by route pattern, method and status, from arrival to the last byte sent',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: SECONDS,
      registers,
    }),
    events: new Counter({
      name: 'docsvc_events_appended_total',
      help: 'Events appended to the event store (committed), by event type',
      labelNames: ['type'] as const,
      registers,
    }),
    head: new Gauge({
      name: 'docsvc_event_store_head_position',
      help: 'Sequence number of the last event in the global order',
      registers,
    }),
    projectionPosition: new Gauge({
      name: 'docsvc_projection_position',
      help: "Sequence number of the last event a projection's checkpoint has reached",
      labelNames: ['projection', 'version', 'kind'] as const,
      registers,
    }),
    projectionLag: new Gauge({
      name: 'docsvc_projection_lag_events',
      help: 'Events in the global order after a projection checkpoint (0: caught up)',
      labelNames: ['projection', 'version', 'kind'] as const,
      registers,
    }),
    embeddingCalls: new Counter({
      name: 'docsvc_embedding_calls_total',
      help: 'Calls of the embedder, by purpose (index: chunks, query: searches) and result',
      labelNames: ['purpose', 'result'] as const,
      registers,
    }),
    embeddingTexts: new Counter({
      name: 'docsvc_embedding_texts_total',
      help: 'Texts sent to the embedder, by purpose',
      labelNames: ['purpose'] as const,
      registers,
    }),
    embeddingTokens: new Counter({
      name: 'docsvc_embedding_tokens_total',
      help: 'Tokens sent to a provider that counts them (OpenAI), by purpose',
      labelNames: ['purpose'] as const,
      registers,
    }),
    embeddingCache: new Counter({
      name: 'docsvc_embedding_cache_lookups_total',
      help: 'Chunk texts looked up before embedding: hit (a stored vector) or miss (sent to the embedder)',
      labelNames: ['result'] as const,
      registers,
    }),
    search: new Histogram({
      name: 'docsvc_search_duration_seconds',
      help: 'Searches, by mode and query-cache outcome, after any minPosition wait',
      labelNames: ['mode', 'cache'] as const,
      buckets: SECONDS,
      registers,
    }),
    imports: new Counter({
      name: 'docsvc_imports_total',
      help: 'Documents of imports by source and outcome (created, updated, unchanged, duplicate, retired, or an error code)',
      labelNames: ['source', 'outcome'] as const,
      registers,
    }),
    extractions: new Counter({
      name: 'docsvc_extractions_total',
      help: 'Files whose text was extracted, by detected type and outcome (ok or an error code)',
      labelNames: ['type', 'outcome'] as const,
      registers,
    }),
    maintenance: new Counter({
      name: 'docsvc_maintenance_runs_total',
      help: 'Maintenance runs by result (ok, repaired, failed, skipped)',
      labelNames: ['result'] as const,
      registers,
    }),
    maintenanceSuccess: new Gauge({
      name: 'docsvc_maintenance_last_success_timestamp_seconds',
      help: 'When the last maintenance run that did not fail ended (Unix time)',
      registers,
    }),
    backups: new Counter({
      name: 'docsvc_backups_total',
      help: 'Backups by kind (full, incremental) and result (ok, failed)',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    backupBytes: new Gauge({
      name: 'docsvc_backup_bytes',
      help: 'Size of the last successful backup of each kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    backupSuccess: new Gauge({
      name: 'docsvc_backup_last_success_timestamp_seconds',
      help: 'When the last successful backup of each kind ended (Unix time)',
      labelNames: ['kind'] as const,
      registers,
    }),
    maintenanceDuration: new Gauge({
      name: 'docsvc_maintenance_last_duration_seconds',
      help: 'How long the last maintenance run that ran took',
      registers,
    }),
    backupDuration: new Gauge({
      name: 'docsvc_backup_last_duration_seconds',
      help: 'How long the last backup of each kind took',
      labelNames: ['kind'] as const,
      registers,
    }),
  };
}
