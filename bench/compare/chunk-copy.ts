/**
 * The chunks of a database as COPY text (every column but the generated ones), loaded again into docsvc's own
 * `chunks` table of a fresh database, and its vector indexes built with the DDL and the build memory docsvc
 * uses (src/projections/chunks/vector-index.ts, vector-index-lifecycle.ts): the limit a rebuild is compared with.
 */
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { migrate } from '../../src/infrastructure/migrations/migrator.js';
import { PgSqlClient } from '../../src/infrastructure/sql/pg-client.js';
import { chunksFromConfig } from '../../src/projections/chunks/chunks.config.js';
import { vectorIndexes } from '../../src/projections/chunks/vector-index.js';
import { copyIn, copyOut } from './emmett/copy.js';
import { freshDatabase, type FreshDatabase } from './support.js';

/** Every stored column of `chunks` but `id` (bigserial) and `tsv` (generated), in table order. */
export const CHUNK_COLUMNS = [
  'space',
  'chunker',
  'document_id',
  'coach_id',
  'version',
  'chunk_index',
  'title',
  'content',
  'start_char',
  'end_char',
  'section',
  'page',
  'access_tier',
  'document_type',
  'tags',
  'publication_date',
  'metadata',
  'embedded_sha256',
  'valid_from',
  'valid_from_at',
  'valid_to',
  'valid_to_at',
  'is_current',
  'embedding',
] as const;

export const exportChunks = (url: string): Promise<Buffer> =>
  copyOut(url, `SELECT ${CHUNK_COLUMNS.join(', ')} FROM chunks ORDER BY id`);

/** The service's space, chunker and dimensions with the default configuration (what the seed was built with). */
export function defaultScope() {
  const { projection, embedder, index } = chunksFromConfig(loadConfig({ LOG_LEVEL: 'error' }));
  return { space: projection.space, chunker: projection.chunker, dimensions: embedder.dimensions, index };
}

/** A fresh database with docsvc's schema (its triggers and indexes, no vector index yet). */
export async function freshChunksDatabase(server: string, label: string): Promise<FreshDatabase> {
  const db = await freshDatabase(server, label);
  const sql = new PgSqlClient(db.url, 1);
  try {
    await migrate(sql);
  } finally {
    await sql.close();
  }
  return db;
}

/** COPY into `chunks`; returns seconds. */
export async function copyChunks(
  url: string,
  source: Iterable<Buffer | string> | AsyncIterable<Buffer | string>,
) {
  const t = performance.now();
  const rows = await copyIn(url, 'chunks', CHUNK_COLUMNS, source);
  return { rows, seconds: (performance.now() - t) / 1000 };
}

/** docsvc's vector indexes (current and past chunks) with its build memory; returns seconds. */
export async function buildVectorIndexes(url: string, buildMemoryMb = 1024): Promise<number> {
  const { space, chunker, dimensions, index } = defaultScope();
  const sql = new PgSqlClient(url, 1);
  try {
    const t = performance.now();
    await sql.transaction(async (tx) => {
      await tx.exec(`SET LOCAL maintenance_work_mem = '${buildMemoryMb}MB'`);
      for (const { ddl } of vectorIndexes(index, space, chunker, dimensions)) await tx.exec(ddl);
    });
    return (performance.now() - t) / 1000;
  } finally {
    await sql.close();
  }
}
