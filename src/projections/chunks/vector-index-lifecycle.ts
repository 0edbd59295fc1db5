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
 * `rebuild`: the index is dropped for a bulk load or a rebuild and built once, on all rows, when the projector has
 * caught up. Inserting into an HNSW index costs several times more per row than building it (BENCHMARKS.md), and
 * while the index is missing a vector search is an exact scan: slower, never wrong. The server's default.
 * `keep`: the index stays and takes every row as it comes. The embedded database's default: it has one session,
 * and a build is one statement that holds it, and every search with it, for the whole build; and an exact scan
 * there costs several times what the index does, while the projector leaves the session to searches between its
 * steps (pglite-client.ts).
 */
export type IndexDuringLoads = 'rebuild' | 'keep';

/** The vector indexes of one configuration (space and chunker) around the projector's work: built at setup. */
export class VectorIndexLifecycle {
  private readonly indexes: Array<{ name: string; ddl: string }>;
  /** Whether the indexes are known to be missing (undefined: not checked yet). */
  private missing: boolean | undefined;

  constructor(
    index: VectorIndexConfig,
    private readonly scope: [space: string, chunker: string],
    dimensions: number,
    private readonly options: {
      /** maintenance_work_mem for the build (an HNSW graph that fits builds in memory, much faster). */
      buildMemoryMb?: number;
      duringLoads?: IndexDuringLoads;
    } = {},
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

  /**
   * Before a batch: the indexes go when the work still to come (`incoming`, the chunks the pending events will
   * write, this batch's included) is a bulk load for the chunks already current. The whole backlog decides, not
   * the batch: a projector that keeps up with uploads reads small batches of a load as large as one it reads late.
   */
  async dropForBulkLoad(sql: SqlExecutor, incoming: () => Promise<number>): Promise<void> {
    if (this.missing || this.options.duringLoads === 'keep') return;
    const pending = await incoming();
    if (!isBulkLoad(pending, pending < BULK_MIN_CHUNKS ? 0 : await currentChunks(sql, this.scope))) return;
    await this.drop(sql);
  }

  private async drop(sql: SqlExecutor): Promise<void> {
    for (const { name } of this.indexes) await sql.exec(`DROP INDEX IF EXISTS ${name}`);
    this.missing = true;
  }

  /**
   * A rebuild, once this configuration's rows are deleted (in the same transaction): `rebuild` leaves the indexes
   * missing, to be built once when the replay has caught up, not row by row; `keep` builds them again at once, on
   * no live row, so that they do not carry the deleted rows' entries through the replay.
   */
  async reset(sql: SqlExecutor): Promise<void> {
    await this.drop(sql);
    if (this.options.duringLoads === 'keep') await this.build(sql);
  }

  private async build(sql: SqlExecutor): Promise<void> {
    await sql.exec(`SET maintenance_work_mem = '${this.options.buildMemoryMb ?? 1024}MB'`);
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
