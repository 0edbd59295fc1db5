import { ConfigError, loadConfig } from '../../src/infrastructure/config/config.js';

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
    [{ EMBEDDINGS_PROVIDER: 'cohere' }, /EMBEDDINGS_PROVIDER/],
    [{ API_KEYS: 'not json' }, /API_KEYS: is not valid JSON/],
    [
      { API_KEYS: '[{"key":"short","role":"admin","coaches":["*"]}]' },
      /API_KEYS: an API key must be at least 16/,
    ],
    [{ ADMIN_API_KEY: 'short' }, /ADMIN_API_KEY: must be at least 16/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
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
