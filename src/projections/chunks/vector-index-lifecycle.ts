import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import { staleVectorIndexes, vectorIndexes, type VectorIndexConfig } from './vector-index.js';

/** A batch with at least this many new chunks, and more than BULK_SHARE of the current ones, is a bulk load. */
export const BULK_MIN_CHUNKS = 256;
export const BULK_SHARE = 0.25;

/**
 * The vector indexes of one configuration (space and chunker) around the projector's work: built at setup,
 * dropped before a bulk load or a rebuild, built again once, on all rows, when the projector has caught up.
 * Inserting into an HNSW index costs several times more per row than building it (BENCHMARKS.md), and while
 * the index is missing a vector search is an exact scan: slower, never wrong.
 */
export class VectorIndexLifecycle {
  private readonly indexes: Array<{ name: string; ddl: string }>;
  /** Whether the indexes are known to be missing (undefined: not checked yet). */
  private missing: boolean | undefined;

  constructor(
    index: VectorIndexConfig,
    private readonly scope: [space: string, chunker: string],
    dimensions: number,
    /** maintenance_work_mem for the build (an HNSW graph that fits builds in memory, much faster). */
    private readonly buildMemoryMb = 1024,
  ) {
    this.indexes = vectorIndexes(index, scope[0], scope[1], dimensions);
  }

  /** Indexes of this configuration built with other parameters (or of the other kind) go; these are built. */
  async setup(sql: SqlExecutor): Promise<void> {
    const current = this.indexes.map((i) => i.name);
    for (const name of await staleVectorIndexes(sql, ...this.scope, current))
      await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    await this.build(sql);
  }

  /**
   * Caught up: indexes dropped for a bulk load (or by a rebuild) are built again. Then the table is analyzed:
   * autovacuum does it only once a tenth of the table has changed, and until then the planner would estimate
   * a newly loaded coach's chunks from statistics that have never seen them (a vector search decides between
   * an exact scan and the index from that estimate, search.ts).
   */
  async restore(sql: SqlExecutor): Promise<void> {
    if (this.missing === false) return;
    await this.build(sql);
    await sql.exec('ANALYZE chunks');
  }

  /** A batch that brings `incoming` chunks is loaded without the indexes when it is a bulk load. */
  async dropForBulkLoad(sql: SqlExecutor, incoming: number): Promise<void> {
    if (this.missing || incoming < BULK_MIN_CHUNKS) return;
    const { rows } = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM chunks WHERE space = $1 AND chunker = $2 AND is_current',
      this.scope,
    );
    if (incoming <= rows[0]!.n * BULK_SHARE) return;
    await this.drop(sql);
  }

  /** A rebuild loads every chunk again: the indexes are built once when it has caught up, not row by row. */
  async drop(sql: SqlExecutor): Promise<void> {
    for (const { name } of this.indexes) await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    this.missing = true;
  }

  private async build(sql: SqlExecutor): Promise<void> {
    await sql.exec(`SET maintenance_work_mem = '${this.buildMemoryMb}MB'`);
    for (const { ddl } of this.indexes) await sql.exec(ddl);
    await sql.exec('RESET maintenance_work_mem');
    this.missing = false;
  }
}

/** Every vector index of another configuration (the version that served until a switch), of any parameters. */
export async function dropVectorIndexes(sql: SqlExecutor, space: string, chunker: string): Promise<void> {
  for (const name of await staleVectorIndexes(sql, space, chunker))
    await sql.exec(`DROP INDEX IF EXISTS ${name}`);
}
