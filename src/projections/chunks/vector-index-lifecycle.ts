import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { currentChunks } from './pending-work.js';
import { staleVectorIndexes, vectorIndexes, type VectorIndexConfig } from './vector-index.js';

/** Work that brings at least this many new chunks, and more than BULK_SHARE of the current ones, is a bulk load. */
export const BULK_MIN_CHUNKS = 256;
export const BULK_SHARE = 0.25;

export function isBulkLoad(incoming: number, current: number): boolean {
  return incoming >= BULK_MIN_CHUNKS && incoming > current * BULK_SHARE;
}

/**
 * The most chunks whose index may be built in one statement on the embedded database (PGlite): about a second of
 * build there (BENCHMARKS.md, Responsiveness). It has one session, and a build holds it, and every search with
 * it, for the whole build; a larger load keeps the index and inserts into it row by row, slower in all but
 * leaving the session to searches between the projector's steps (pglite-client.ts). A server has no such bound.
 */
export const EMBEDDED_MAX_BLOCKING_BUILD_CHUNKS = 2_000;

/**
 * Where the vector indexes stand: `built`; `small`, absent because the configuration has fewer than `minChunks`
 * current chunks (every vector search is then an exact scan, search.ts, and an index would only be paid for);
 * `deferred`, absent for a load or a rebuild, built once when the projector has caught up.
 */
type IndexState = 'built' | 'small' | 'deferred';

/** The vector indexes of one configuration (space and chunker) around the projector's work. */
export class VectorIndexLifecycle {
  private readonly indexes: Array<{ name: string; ddl: string }>;
  private state: IndexState | undefined;

  constructor(
    index: VectorIndexConfig,
    private readonly scope: [space: string, chunker: string],
    dimensions: number,
    private readonly options: {
      /** maintenance_work_mem for the build (an HNSW graph that fits builds in memory, much faster). */
      buildMemoryMb?: number;
      /**
       * The index is dropped for a load (and built once, on all rows, when the projector has caught up) only if
       * that build would index at most this many chunks; undefined: always (a server's default).
       */
      maxBlockingBuildChunks?: number;
      /** The indexes exist from this many current chunks of the configuration up (default 0: always). */
      minChunks?: number;
    } = {},
  ) {
    this.indexes = vectorIndexes(index, scope[0], scope[1], dimensions);
  }

  private get minChunks(): number {
    return this.options.minChunks ?? 0;
  }

  /**
   * Indexes of this configuration built with other parameters (or of the other kind) go; these are built when
   * the corpus is large enough for them. Indexes that exist are kept whatever the corpus's size.
   */
  async setup(sql: SqlExecutor): Promise<void> {
    const current = this.indexes.map((i) => i.name);
    for (const name of await staleVectorIndexes(sql, ...this.scope, current))
      await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    if ((await currentChunks(sql, this.scope)) >= this.minChunks) return this.build(sql);
    const { rows } = await sql.query('SELECT 1 FROM pg_indexes WHERE indexname = ANY ($1::text[])', [
      current,
    ]);
    this.state = rows.length === this.indexes.length ? 'built' : 'small';
  }

  /**
   * Caught up: indexes dropped for a bulk load (or by a rebuild) are built again, if the corpus has now reached
   * minChunks. Then the table is analyzed: autovacuum does it only once a tenth of the table has changed,
   * and until then the planner would estimate a newly loaded coach's chunks from statistics that have never seen
   * them (a vector search decides between an exact scan and the index from that estimate, search.ts).
   */
  async restore(sql: SqlExecutor): Promise<void> {
    if (this.state === 'built') return;
    const loaded = this.state === 'deferred';
    if ((await currentChunks(sql, this.scope)) >= this.minChunks) await this.build(sql);
    else this.state = 'small';
    if (loaded) await sql.exec('ANALYZE chunks');
  }

  /**
   * Before a batch of `batchChunks` new chunks: the indexes go when the work still to come (`incoming`, the
   * chunks the pending events will write, this batch's included) is a bulk load for the chunks already current;
   * absent ones are built when that work takes the corpus to minChunks and is not a bulk load. The whole
   * backlog decides, not the batch: a projector that keeps up with uploads reads small batches of a load as large
   * as one it reads late.
   */
  async beforeBatch(sql: SqlExecutor, batchChunks: number, incoming: () => Promise<number>): Promise<void> {
    if (this.state === 'deferred') return;
    const current = await currentChunks(sql, this.scope);
    if (this.state === 'small' && current + batchChunks < this.minChunks) return;
    const pending = await incoming();
    if (isBulkLoad(pending, current) && this.mayBuild(pending + current)) await this.drop(sql);
    else if (this.state === 'small' && current + pending >= this.minChunks) await this.build(sql);
  }

  private mayBuild(chunks: number): boolean {
    const max = this.options.maxBlockingBuildChunks;
    return max === undefined || chunks <= max;
  }

  private async drop(sql: SqlExecutor): Promise<void> {
    for (const { name } of this.indexes) await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    this.state = 'deferred';
  }

  /**
   * A rebuild, once this configuration's rows (`chunks` of them) are deleted, in the same transaction: the indexes
   * are left missing, to be built once when the replay has caught up, not row by row; unless that build would be
   * too long to block on (maxBlockingBuildChunks): they are then built again at once, on no live row, so that
   * they do not carry the deleted rows' entries through the replay.
   */
  async reset(sql: SqlExecutor, chunks: number): Promise<void> {
    await this.drop(sql);
    if (!this.mayBuild(chunks) && chunks >= this.minChunks) await this.build(sql);
  }

  private async build(sql: SqlExecutor): Promise<void> {
    await sql.exec(`SET maintenance_work_mem = '${this.options.buildMemoryMb ?? 1024}MB'`);
    for (const { ddl } of this.indexes) await sql.exec(ddl);
    await sql.exec('RESET maintenance_work_mem');
    this.state = 'built';
  }
}

/** Every vector index of another configuration (the version that served until a switch), of any parameters. */
export async function dropVectorIndexes(sql: SqlExecutor, space: string, chunker: string): Promise<void> {
  for (const name of await staleVectorIndexes(sql, space, chunker))
    await sql.exec(`DROP INDEX IF EXISTS ${name}`);
}
