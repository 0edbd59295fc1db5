import type { SqlSession } from '../../infrastructure/sql/sql-client.js';
import { staleVectorIndexes } from '../chunks/vector-index.js';
import { indexBaselines, indexNow, type IndexNow } from './index-baselines.js';
import type { MaintenanceContext } from './maintenance-context.js';
import { formatBytes, nothingDone, skipped, type TaskOutcome } from './maintenance-report.js';

/** An index is never expected to be smaller than one page. */
const PAGE_BYTES = 8192;

export interface IndexFigures {
  index: string;
  action: 'baseline' | 'kept' | 'rebuilt' | 'failed';
  reason: string;
  liveRows: number;
  sizeBytes: number;
  expectedBytes?: number;
  bloatPercent?: number;
  sizeAfterBytes?: number;
}

/**
 * The vector indexes of this process's chunks configuration (current and past chunks, vector-index.ts), rebuilt
 * with `REINDEX INDEX CONCURRENTLY` when bloated: searches go on meanwhile, on the old index.
 *
 * Bloat is the index's size against the size expected for the rows it covers now, at the bytes per row it had
 * when last rebuilt here (or first seen: maintenance_index_baselines). Edits close chunks and add new ones: the
 * graph keeps the closed ones' entries until VACUUM, and the index file keeps growing; a rebuild makes it
 * fresh. An index built since by someone else (another oid) is measured again rather than judged; so is one
 * first seen. An invalid index (a concurrent build that did not finish) is rebuilt whatever its size.
 *
 * Skipped on the embedded database: it has one session, so a rebuild (concurrent or not) would hold every search
 * for the whole build; the projector rebuilds its index after bulk loads, where that wait is bounded.
 */
export async function rebuildBloatedVectorIndexes(ctx: MaintenanceContext): Promise<TaskOutcome> {
  if (ctx.sql.kind === 'pglite')
    return skipped(
      'the embedded database has one session: a rebuild would hold every search until it ends (use DATABASE_URL)',
    );
  const { space, chunker } = ctx.chunks.projection;
  const names = await staleVectorIndexes(ctx.session, space, chunker);
  if (names.length === 0)
    return nothingDone('no vector index yet (fewer current chunks than VECTOR_INDEX_MIN_CHUNKS)', {
      indexes: [],
    });
  const indexes: IndexFigures[] = [];
  for (const name of names.sort()) {
    const now = await indexNow(ctx.session, name, [space, chunker]);
    if (now) indexes.push(await judged(ctx, now));
  }
  const rebuilt = indexes.filter((i) => i.action === 'rebuilt');
  const failed = indexes.filter((i) => i.action === 'failed');
  const shrunk = rebuilt.reduce((n, i) => n + i.sizeBytes - (i.sizeAfterBytes ?? i.sizeBytes), 0);
  const summary = indexes
    .map((i) => `${i.index}: ${i.action}${i.bloatPercent === undefined ? '' : ` (${i.bloatPercent}% over)`}`)
    .join('; ');
  return {
    status: failed.length > 0 ? 'failed' : 'succeeded',
    summary: `${rebuilt.length} of ${indexes.length} rebuilt (${formatBytes(shrunk)} smaller): ${summary}`,
    rows: 0,
    bytes: Math.max(0, shrunk),
    details: { thresholdPercent: ctx.config.MAINTENANCE_INDEX_BLOAT_PERCENT, indexes },
    ...(failed.length > 0 ? { reason: failed.map((f) => `${f.index}: ${f.reason}`).join('; ') } : {}),
  };
}

async function judged(ctx: MaintenanceContext, now: IndexNow): Promise<IndexFigures> {
  const figures = { index: now.name, liveRows: now.liveRows, sizeBytes: now.sizeBytes };
  if (!now.valid) return rebuild(ctx, now, { ...figures, reason: 'invalid: a build that did not finish' });
  const base = await indexBaselines.read(ctx.session, now.name);
  const remeasure = !base
    ? 'first seen: measured now, judged from the next run on'
    : base.oid !== now.oid
      ? 'built again since it was measured (by the projector or by hand): measured now'
      : base.liveRows === 0
        ? 'covered no rows when measured: measured now'
        : undefined;
  if (!base || remeasure) {
    await indexBaselines.record(ctx.session, now, false);
    return { ...figures, action: 'baseline', reason: remeasure! };
  }
  const expectedBytes = Math.max(PAGE_BYTES, Math.round((now.liveRows * base.sizeBytes) / base.liveRows));
  const bloatPercent = Math.round((now.sizeBytes / expectedBytes - 1) * 100);
  const judgedFigures = { ...figures, expectedBytes, bloatPercent };
  const threshold = ctx.config.MAINTENANCE_INDEX_BLOAT_PERCENT;
  if (bloatPercent < threshold)
    return { ...judgedFigures, action: 'kept', reason: `under ${threshold}% over its expected size` };
  return rebuild(ctx, now, { ...judgedFigures, reason: `${bloatPercent}% over its expected size` });
}

async function rebuild(
  ctx: MaintenanceContext,
  now: IndexNow,
  figures: Omit<IndexFigures, 'action'>,
): Promise<IndexFigures> {
  try {
    await reindexConcurrently(ctx.session, now.name, ctx.config.INDEX_BUILD_MEMORY_MB);
  } catch (error) {
    return { ...figures, action: 'failed', reason: `${figures.reason}; REINDEX failed: ${(error as Error).message}` };
  }
  const { space, chunker } = ctx.chunks.projection;
  const after = await indexNow(ctx.session, now.name, [space, chunker]);
  if (after) await indexBaselines.record(ctx.session, after, true);
  return { ...figures, action: 'rebuilt', sizeAfterBytes: after?.sizeBytes };
}

/**
 * REINDEX CONCURRENTLY builds a new index beside the old one and swaps them. If it fails half-way it leaves the
 * new one behind, invalid (`<name>_ccnew…`), still written to by every insert: that one is dropped.
 */
async function reindexConcurrently(session: SqlSession, name: string, memoryMb: number): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unexpected index name ${name}`);
  await session.exec(`SET maintenance_work_mem = '${memoryMb}MB'`);
  try {
    await session.exec(`REINDEX INDEX CONCURRENTLY ${name}`);
  } catch (error) {
    const { rows } = await session.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
       WHERE c.relname LIKE $1 AND NOT i.indisvalid`,
      [`${name}_ccnew%`],
    );
    for (const leftover of rows) await session.exec(`DROP INDEX CONCURRENTLY IF EXISTS ${leftover.name}`);
    throw error;
  } finally {
    await session.exec('RESET maintenance_work_mem');
  }
}
