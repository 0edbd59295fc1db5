import type { AppConfig } from '../config/config.js';
import { DatabaseUnavailableError } from './database-unavailable.js';
import { PgSqlClient } from './pg-client.js';
import { PgliteSqlClient } from './pglite-client.js';
import type { SqlClient } from './sql-client.js';

/** DATABASE_URL selects a PostgreSQL server; without it the database is embedded under DATA_DIR. */
export async function createSqlClient(
  config: Pick<AppConfig, 'DATABASE_URL' | 'DATA_DIR' | 'DATABASE_POOL_SIZE'> &
    Partial<Pick<AppConfig, 'PGLITE_SHARED_BUFFERS'>>,
): Promise<SqlClient> {
  if (config.DATABASE_URL) {
    const client = new PgSqlClient(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
    try {
      await client.query('SELECT 1');
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new DatabaseUnavailableError(config.DATABASE_URL, error);
    }
    return client;
  }
  return PgliteSqlClient.open(config.DATA_DIR, config.PGLITE_SHARED_BUFFERS);
}
