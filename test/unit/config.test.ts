import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from '../../src/infrastructure/auth/api-keys.js';
import { ConfigError, extractionMemoryMb, loadConfig } from '../../src/infrastructure/config/config.js';
import { redactUrl } from '../../src/infrastructure/sql/database-unavailable.js';

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      DATA_DIR: './data',
      EVENT_STORE: 'postgres',
      EMBEDDINGS_PROVIDER: 'local',
    });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it("sizes the extraction's memory for the embedded database unless told (the service stays under 1 GB)", () => {
    expect(extractionMemoryMb(loadConfig({}))).toBe(256);
    expect(extractionMemoryMb(loadConfig({ DATABASE_URL: 'postgres://db/docsvc' }))).toBe(512);
    expect(extractionMemoryMb(loadConfig({ EXTRACTION_MEMORY_MB: '1024' }))).toBe(1024);
    expect(() => loadConfig({ EXTRACTION_MEMORY_MB: '32' })).toThrow(/EXTRACTION_MEMORY_MB/);
  });

  it('treats empty values as unset and coerces numbers and booleans', () => {
    const config = loadConfig({
      PORT: '',
      DATABASE_URL: '',
      PROJECTOR_ENABLED: 'false',
      PROJECTOR_BATCH_SIZE: '50',
    });
    expect(config).toMatchObject({ PORT: 3000, PROJECTOR_ENABLED: false, PROJECTOR_BATCH_SIZE: 50 });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, /PORT \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL: must be a postgres/],
    [{ EVENT_STORE: 'kafka' }, /EVENT_STORE \(got "kafka"\)/],
    [{ EVENT_STORE: 'eventstoredb' }, /EVENTSTORE_CONNECTION_STRING: is required/],
    [
      {
        EVENT_STORE: 'eventstoredb',
        EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113',
        BACKUP_DIR: '/tmp/backups',
        BACKUP_CRON: '0 * * * *',
      },
      /BACKUP_CRON \(got "0 \* \* \* \*"\): backs up an event log kept in PostgreSQL/,
    ],
    [{ EMBEDDINGS_PROVIDER: 'cohere' }, /EMBEDDINGS_PROVIDER/],
    [{ API_KEYS: 'not json' }, /API_KEYS: is not valid JSON/],
    [
      { API_KEYS: '[{"key":"short","role":"admin","coaches":["*"]}]' },
      /API_KEYS: an API key must be at least 16/,
    ],
    [{ ADMIN_API_KEY: 'short' }, /ADMIN_API_KEY: must be at least 16/],
    [
      { EMBEDDINGS_PROVIDER: 'openai', OPENAI_API_KEY: 'k', EMBEDDINGS_MODEL: 'text-embedding-3-large' },
      /EMBEDDINGS_DIMENSIONS: pgvector indexes vectors of at most 2000 dimensions \(got 3072, the size of text-embedding-3-large\)/,
    ],
    [
      {
        EMBEDDINGS_PROVIDER: 'openai',
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
        EMBEDDINGS_MODEL: 'nomic-embed-text',
      },
      /EMBEDDINGS_DIMENSIONS: is required for the model "nomic-embed-text"/,
    ],
    [
      { EMBEDDINGS_DIMENSIONS: '3000' },
      /EMBEDDINGS_DIMENSIONS \(got "3000"\): pgvector indexes vectors of at most 2000/,
    ],
    [
      { EMBEDDINGS_DIMENSIONS: '16' },
      /EMBEDDINGS_DIMENSIONS \(got "16"\): the local embedder takes 32 to 2000/,
    ],
    [{ SEARCH_MIN_SIMILARITY: '1.5' }, /SEARCH_MIN_SIMILARITY \(got "1.5"\)/],
    [{ SEARCH_MIN_SIMILARITY: '-2' }, /SEARCH_MIN_SIMILARITY \(got "-2"\)/],
    [{ SEARCH_MIN_SIMILARITY: 'high' }, /SEARCH_MIN_SIMILARITY \(got "high"\)/],
    [
      { API_KEYS: '[{"key":"0123456789abcdef0","role":"reader","coaches":["a"]}]' },
      /API_KEYS: a reader key needs a tier, "free" or "premium"/,
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("gives editors and admins without a tier both tiers, and keeps a reader's tier", () => {
    const keys = (entries: object[]) => loadConfig({ API_KEYS: JSON.stringify(entries) }).API_KEYS;
    const key = '0123456789abcdef0';
    expect(keys([{ key, role: 'editor', coaches: ['a'] }])).toEqual([
      { key, role: 'editor', coaches: ['a'], tier: 'premium' },
    ]);
    expect(keys([{ key, role: 'reader', coaches: ['a'], tier: 'free' }])![0]!.tier).toBe('free');
  });

  it('refuses a reader key without a tier in API_KEYS_FILE too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docsvc-keys-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([{ key: '0123456789abcdef0', role: 'reader', coaches: ['a'] }]));
    try {
      expect(() => ApiKeys.load(loadConfig({ API_KEYS_FILE: file }))).toThrow(
        /API_KEYS_FILE .*tier: a reader key needs a tier/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates the admin key once: the first start says it generated it, later starts reuse it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docsvc-keys-'));
    try {
      const first = ApiKeys.load(loadConfig({ DATA_DIR: dir }));
      const second = ApiKeys.load(loadConfig({ DATA_DIR: dir }));
      expect(first.keyFile).toEqual({ path: join(dir, 'admin-api-key'), generated: true });
      expect(second.keyFile).toEqual({ path: join(dir, 'admin-api-key'), generated: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a model of more than 2000 dimensions shortened, and an unknown model with its size', () => {
    const large = {
      EMBEDDINGS_PROVIDER: 'openai',
      OPENAI_API_KEY: 'k',
      EMBEDDINGS_MODEL: 'text-embedding-3-large',
    };
    expect(loadConfig({ ...large, EMBEDDINGS_DIMENSIONS: '1024' }).EMBEDDINGS_DIMENSIONS).toBe(1024);
    expect(
      loadConfig({ ...large, EMBEDDINGS_MODEL: 'nomic-embed-text', EMBEDDINGS_DIMENSIONS: '768' }),
    ).toMatchObject({ EMBEDDINGS_MODEL: 'nomic-embed-text', EMBEDDINGS_DIMENSIONS: 768 });
  });

  it('takes SEARCH_MIN_SIMILARITY as a cosine similarity, unset by default (the embedder decides)', () => {
    expect(loadConfig({}).SEARCH_MIN_SIMILARITY).toBeUndefined();
    expect(loadConfig({ SEARCH_MIN_SIMILARITY: '' }).SEARCH_MIN_SIMILARITY).toBeUndefined();
    expect(loadConfig({ SEARCH_MIN_SIMILARITY: '0.25' }).SEARCH_MIN_SIMILARITY).toBe(0.25);
    expect(loadConfig({ SEARCH_MIN_SIMILARITY: '-1' }).SEARCH_MIN_SIMILARITY).toBe(-1);
  });

  it('never echoes secret values', () => {
    expect(() => loadConfig({ ADMIN_API_KEY: 'tiny' })).not.toThrow(/tiny/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' })).not.toThrow(/hunter2/);
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', LOG_LEVEL: 'loud' })).toThrow(
      /PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/,
    );
  });
});

describe('a database URL in a message', () => {
  it('keeps the user, host, port and database, never the password nor the query', () => {
    expect(redactUrl('postgres://bob:s3cret@db.example:5433/docs?sslmode=require&password=x')).toBe(
      'postgres://bob:***@db.example:5433/docs?…',
    );
    expect(redactUrl('postgres://bob@localhost/docs')).toBe('postgres://bob@localhost/docs');
    expect(redactUrl('not a url s3cret')).toBe('(not a valid URL)');
  });
});
