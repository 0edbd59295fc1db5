import { z } from 'zod';
import { DEFAULT_LOCAL_DIMENSIONS } from '../embeddings/local-embedder.js';
import { DEFAULT_OPENAI_MODEL, NATIVE_DIMENSIONS } from '../embeddings/openai-embedder.js';

/** pgvector's HNSW and IVFFlat indexes take vectors of at most this many dimensions. */
export const MAX_INDEXED_DIMENSIONS = 2_000;

/**
 * The service's configuration, parsed once at start from the environment (API.md "Configuration").
 * A bad value stops start-up with a message naming the variable.
 */
const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

/**
 * One key of API_KEYS or API_KEYS_FILE. A reader must say its tier: a forgotten tier would otherwise have to mean
 * one of the two, and meaning premium would open premium documents to it. Editors and admins see both tiers of
 * their coaches whatever their tier says (it defaults to premium for them).
 */
export const apiKeySchema = z
  .object({
    key: z.string().min(16, 'an API key must be at least 16 characters'),
    role: z.enum(['admin', 'editor', 'reader']),
    coaches: z.array(z.string().min(1)).min(1),
    tier: z.enum(['free', 'premium']).optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.role === 'reader' && !entry.tier)
      ctx.addIssue({
        code: 'custom',
        path: ['tier'],
        message: 'a reader key needs a tier, "free" or "premium"',
      });
  })
  .transform((entry) => ({ ...entry, tier: entry.tier ?? ('premium' as const) }));

const jsonArrayOfKeys = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(apiKeySchema));

export const configSchema = z
  .object({
    PORT: port.default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
    DATABASE_POOL_SIZE: positiveInt.max(1000).default(10),
    PGLITE_SHARED_BUFFERS: z
      .string()
      .regex(/^\d+(kB|MB|GB)$/, 'must be a PostgreSQL size such as 16MB')
      .default('16MB'),
    /** GET /admin/performance lists statements with an execution this long; the service times them from it. */
    SLOW_QUERY_MS: z.coerce.number().min(0).max(3_600_000).default(100),
    EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
    EVENTSTORE_CONNECTION_STRING: z
      .string()
      .regex(/^(esdb|kurrentdb)(\+discover)?:\/\//)
      .optional(),
    /** With EventStoreDB, how long a write waits for its own events to reach the documents read models. */
    EVENTSTORE_READ_MODEL_WAIT_MS: positiveInt.max(120_000).default(10_000),
    EMBEDDINGS_PROVIDER: z.enum(['local', 'openai']).default('local'),
    OPENAI_API_KEY: z.string().min(1).optional(),
    OPENAI_BASE_URL: z.url().optional(),
    EMBEDDINGS_MODEL: z.string().min(1).optional(),
    EMBEDDINGS_DIMENSIONS: positiveInt.max(16_000).optional(),
    API_KEYS: jsonArrayOfKeys.optional(),
    API_KEYS_FILE: z.string().min(1).optional(),
    ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
    MAX_UPLOAD_BYTES: positiveInt.max(1024 * 1024 * 1024).default(50 * 1024 * 1024),
    /** Uploads and imports read, extracted and written at once; more wait in a bounded queue (ingest-gate.ts). */
    INGEST_CONCURRENCY: positiveInt.max(64).optional(),
    INGEST_QUEUE_LENGTH: z.coerce.number().int().min(0).max(10_000).default(32),
    INGEST_QUEUE_TIMEOUT_MS: positiveInt.max(600_000).default(120_000),
    MAX_PDF_PAGES: positiveInt.max(100_000).default(2_000),
    EXTRACTION_TIMEOUT_MS: positiveInt.max(600_000).default(60_000),
    /** Unset: 256 on the embedded database, 512 on a server (extractionMemoryMb below). */
    EXTRACTION_MEMORY_MB: positiveInt.min(64).max(16_384).optional(),
    OCR_MAX_PAGES: z.coerce.number().int().min(0).max(2_000).default(50),
    OCR_TIMEOUT_MS: positiveInt.max(3_600_000).default(180_000),
    JSON_BODY_LIMIT_BYTES: positiveInt.max(100 * 1024 * 1024).default(1024 * 1024),
    /** How long a shutdown waits for the projectors before it aborts their statements on the server. */
    SHUTDOWN_TIMEOUT_MS: positiveInt.max(600_000).default(10_000),
    RATE_LIMIT_PER_MINUTE: positiveInt.max(1_000_000).default(1_200),
    /** Failed authentications (401) per client address per minute, before the address is refused with 429. */
    AUTH_FAILURES_PER_MINUTE: positiveInt.max(1_000_000).default(100),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']).default('log'),
    LOG_FORMAT: z.enum(['json', 'text']).default('text'),
    PROJECTOR_ENABLED: z.stringbool().default(true),
    PROJECTOR_BATCH_SIZE: positiveInt.max(10_000).default(500),
    /** A batch also stops at this many bytes of event payload: large documents are projected a few at a time. */
    PROJECTOR_BATCH_BYTES: positiveInt.max(1024 ** 3).default(8 * 1024 * 1024),
    PROJECTOR_POLL_MS: positiveInt.max(60_000).default(1_000),
    /** Readiness is degraded when an async projection is further behind than this, in events: two default batches. */
    HEALTH_MAX_PROJECTOR_LAG: z.coerce.number().int().min(0).max(1_000_000_000).default(1_000),
    /** Readiness warns as the database nears this size and is degraded beyond it; the default is the seed's. */
    DATABASE_SIZE_LIMIT_BYTES: positiveInt.max(Number.MAX_SAFE_INTEGER).default(10 * 1024 ** 3),
    CHUNK_TARGET_TOKENS: positiveInt.min(16).max(8_000).default(256),
    CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).max(4_000).default(32),
    CHUNK_MAX_TOKENS: positiveInt.min(16).max(8_000).default(512),
    VECTOR_INDEX: z.enum(['hnsw', 'ivfflat']).default('hnsw'),
    HNSW_M: positiveInt.min(2).max(100).default(24),
    HNSW_EF_CONSTRUCTION: positiveInt.min(4).max(1_000).default(160),
    HNSW_EF_SEARCH: positiveInt.max(1_000).default(500),
    IVFFLAT_LISTS: positiveInt.max(32_768).default(100),
    IVFFLAT_PROBES: positiveInt.max(32_768).default(10),
    INDEX_BUILD_MEMORY_MB: positiveInt.min(16).max(65_536).default(1_024),
    VECTOR_INDEX_MIN_CHUNKS: z.coerce.number().int().min(0).max(100_000_000).optional(),
    SEARCH_HYBRID_TEXT_WEIGHT: z.coerce.number().min(0).max(100).optional(),
    SEARCH_MIN_SIMILARITY: z.coerce.number().min(-1).max(1).optional(),
    QUERY_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
    SEARCH_WAIT_TIMEOUT_MS: positiveInt.max(60_000).default(5_000),
    SEARCH_EMBEDDING_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
    URL_FETCH_TIMEOUT_MS: positiveInt.max(600_000).default(30_000),
    /** Hosts (names or address literals) that may be fetched although they are private: an intranet wiki. */
    URL_FETCH_ALLOW_HOSTS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean),
      ),
    /** Scheduled backups: a directory and a cron expression, both needed (off when unset). */
    BACKUP_DIR: z.string().min(1).optional(),
    BACKUP_CRON: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'must be a cron expression of 5 or 6 fields, e.g. "0 1 * * *"')
      .optional(),
    BACKUP_CHAIN_LENGTH: positiveInt.max(1_000).default(7),
    BACKUP_RETAIN_CHAINS: positiveInt.max(1_000).default(4),
    URL_REFRESH_ENABLED: z.stringbool().default(true),
    URL_REFRESH_CRON: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'must be a cron expression of 5 or 6 fields, e.g. "0 3 * * *"')
      .default('0 3 * * *'),
    /** Scheduled maintenance (docs/maintenance.md), in the processes that run projectors. */
    MAINTENANCE_ENABLED: z.stringbool().default(true),
    MAINTENANCE_CRON: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'must be a cron expression of 5 or 6 fields, e.g. "0 2 * * *"')
      .default('0 2 * * *'),
    MAINTENANCE_RUNS_KEPT: positiveInt.max(10_000).default(100),
    /** A vector index this much larger than expected for its live rows is rebuilt (percent). */
    MAINTENANCE_INDEX_BLOAT_PERCENT: positiveInt.max(100_000).default(30),
  })
  .superRefine((c, ctx) => {
    if (c.EVENT_STORE === 'eventstoredb' && !c.EVENTSTORE_CONNECTION_STRING) {
      ctx.addIssue({
        code: 'custom',
        path: ['EVENTSTORE_CONNECTION_STRING'],
        message: 'is required when EVENT_STORE=eventstoredb',
      });
    }
    if (c.EVENT_STORE === 'eventstoredb' && c.BACKUP_CRON) {
      ctx.addIssue({
        code: 'custom',
        path: ['BACKUP_CRON'],
        message:
          "backs up an event log kept in PostgreSQL; with EVENT_STORE=eventstoredb use the server's backups",
      });
    }
    if (c.CHUNK_OVERLAP_TOKENS >= c.CHUNK_TARGET_TOKENS || c.CHUNK_TARGET_TOKENS > c.CHUNK_MAX_TOKENS) {
      ctx.addIssue({
        code: 'custom',
        path: ['CHUNK_TARGET_TOKENS'],
        message: 'needs CHUNK_OVERLAP_TOKENS < CHUNK_TARGET_TOKENS <= CHUNK_MAX_TOKENS',
      });
    }
    if (c.EMBEDDINGS_PROVIDER === 'openai' && !c.OPENAI_API_KEY && !c.OPENAI_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message:
          'is required when EMBEDDINGS_PROVIDER=openai (or set OPENAI_BASE_URL for a server without keys)',
      });
    }
    const model = c.EMBEDDINGS_MODEL ?? DEFAULT_OPENAI_MODEL;
    const dimensions =
      c.EMBEDDINGS_DIMENSIONS ??
      (c.EMBEDDINGS_PROVIDER === 'local' ? DEFAULT_LOCAL_DIMENSIONS : NATIVE_DIMENSIONS[model]);
    if (dimensions === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['EMBEDDINGS_DIMENSIONS'],
        message: `is required for the model "${model}" (its vector size is not known here)`,
      });
    } else if (dimensions > MAX_INDEXED_DIMENSIONS) {
      const from = c.EMBEDDINGS_DIMENSIONS === undefined ? `, the size of ${model}` : '';
      ctx.addIssue({
        code: 'custom',
        path: ['EMBEDDINGS_DIMENSIONS'],
        message:
          `pgvector indexes vectors of at most ${MAX_INDEXED_DIMENSIONS} dimensions (got ${dimensions}${from}); ` +
          'set 2000 or less (the text-embedding-3 models return shortened vectors on request)',
      });
    } else if (c.EMBEDDINGS_PROVIDER === 'local' && dimensions < 32) {
      ctx.addIssue({
        code: 'custom',
        path: ['EMBEDDINGS_DIMENSIONS'],
        message: `the local embedder takes 32 to ${MAX_INDEXED_DIMENSIONS} dimensions`,
      });
    }
    if (c.BACKUP_CRON && !c.BACKUP_DIR) {
      ctx.addIssue({ code: 'custom', path: ['BACKUP_DIR'], message: 'is required when BACKUP_CRON is set' });
    }
    if (c.IVFFLAT_PROBES > c.IVFFLAT_LISTS) {
      ctx.addIssue({ code: 'custom', path: ['IVFFLAT_PROBES'], message: 'cannot exceed IVFFLAT_LISTS' });
    }
    if (c.API_KEYS && c.API_KEYS_FILE) {
      ctx.addIssue({
        code: 'custom',
        path: ['API_KEYS_FILE'],
        message: 'cannot be combined with API_KEYS; set one of them',
      });
    }
  });

export type AppConfig = z.infer<typeof configSchema>;
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * The extraction's memory (the worker's heap, and the process's growth it may cause): EXTRACTION_MEMORY_MB, else
 * what keeps the service under 1 GB. The embedded database holds about 300 MB of the process itself, and an
 * extraction's worker costs about 100 MB of code beside the file's share; on a server the process is smaller.
 */
export function extractionMemoryMb(config: Pick<AppConfig, 'EXTRACTION_MEMORY_MB' | 'DATABASE_URL'>): number {
  return config.EXTRACTION_MEMORY_MB ?? (config.DATABASE_URL ? 512 : 256);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. Empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const relevant = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const shown =
        variable in env && !/KEY|SECRET|PASSWORD|URL|CONNECTION/.test(variable)
          ? ` (got "${env[variable]}")`
          : '';
      return `${variable}${shown}: ${issue.message}`;
    }),
  );
}
