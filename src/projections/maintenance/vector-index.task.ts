import type { SqlSession } from '../../infrastructure/sql/sql-client.js';
import { staleVectorIndexes } from '../chunks/vector-index.js';
import { chunksNow, deadSince, indexBaselines, indexNow, type IndexNow } from './index-baselines.js';
import type { MaintenanceContext } from './maintenance-context.js';
import { formatBytes, nothingDone, skipped, type TaskOutcome } from './maintenance-report.js';

export interface IndexFigures {
  index: string;
  action: 'baseline' | 'kept' | 'rebuilt' | 'failed';
  reason: string;
  sizeBytes: number;
  liveRows?: number;
  /** Entries that point to rows no longer current, counted since the index was measured. */
  deadEntries?: number;
  /** deadEntries against liveRows, in percent. */
  bloatPercent?: number;
  sizeAfterBytes?: number;
}

/**
 * The vector index of this process's chunks configuration, rebuilt with `REINDEX INDEX CONCURRENTLY` when
 * bloated: searches go on meanwhile, on the old index.
 *
 * Bloat is judged by entries, not bytes: every edit closes the document's current chunks and inserts new ones,
 * and each closed chunk leaves behind an entry of the current chunks' index (pointing to a row version no longer
 * current); VACUUM marks those deleted and HNSW repairs its graph around them, and pgvector reuses their space,
 * so the file barely grows while the graph drifts from the one a build makes (recall suffers). The count of such
 * entries since the index was last rebuilt here (or first seen: maintenance_index_baselines), against the rows
 * it covers now, is compared with MAINTENANCE_INDEX_BLOAT_PERCENT; sizes are reported beside it. An index built
 * since by someone else (another oid) is measured again rather than judged. The past versions' index only ever
 * gains rows (a closed version's chunks; an erasure is the only removal), so it is not judged; an invalid index
 * (a concurrent build that did not finish) is rebuilt whatever it covers.
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
    const now = await indexNow(ctx.session, name);
    if (now) indexes.push(await judged(ctx, now));
  }
  const rebuilt = indexes.filter((i) => i.action === 'rebuilt');
  const failed = indexes.filter((i) => i.action === 'failed');
  const shrunk = rebuilt.reduce((n, i) => n + i.sizeBytes - (i.sizeAfterBytes ?? i.sizeBytes), 0);
  const each = indexes.map((i) => `${i.index}: ${i.action} (${i.reason})`).join('; ');
  return {
    status: failed.length > 0 ? 'failed' : 'succeeded',
    summary: `${rebuilt.length} of ${indexes.length} rebuilt (${formatBytes(Math.max(0, shrunk))} smaller): ${each}`,
    rows: 0,
    bytes: Math.max(0, shrunk),
    details: { thresholdPercent: ctx.config.MAINTENANCE_INDEX_BLOAT_PERCENT, indexes },
    ...(failed.length > 0 ? { reason: failed.map((f) => `${f.index}: ${f.reason}`).join('; ') } : {}),
  };
}

async function judged(ctx: MaintenanceContext, now: IndexNow): Promise<IndexFigures> {
  const figures = { index: now.name, sizeBytes: now.sizeBytes };
  if (!now.valid) return rebuild(ctx, now, { ...figures, reason: 'invalid: a build that did not finish' });
  if (now.name.endsWith('_past'))
    return { ...figures, action: 'kept', reason: 'past versions only gain rows: not judged' };
  const scope: [string, string] = [ctx.chunks.projection.space, ctx.chunks.projection.chunker];
  const chunks = await chunksNow(ctx.session, scope);
  const base = await indexBaselines.read(ctx.session, now.name);
  if (!base || base.oid !== now.oid) {
    await indexBaselines.record(ctx.session, now, chunks, false);
    const reason = base ? 'built again since it was measured (by the projector or by hand)' : 'first seen';
    return { ...figures, liveRows: chunks.liveRows, action: 'baseline', reason: `${reason}: measured now` };
  }
  const deadEntries = await deadSince(ctx.session, scope, base);
  const bloatPercent = Math.round((deadEntries / Math.max(1, chunks.liveRows)) * 100);
  const judgedFigures = { ...figures, liveRows: chunks.liveRows, deadEntries, bloatPercent };
  const threshold = ctx.config.MAINTENANCE_INDEX_BLOAT_PERCENT;
  if (deadEntries === 0 || bloatPercent < threshold)
    return { ...judgedFigures, action: 'kept', reason: `${bloatPercent}% dead entries, under ${threshold}%` };
  return rebuild(ctx, now, { ...judgedFigures, reason: `${bloatPercent}% dead entries` });
}

async function rebuild(
  ctx: MaintenanceContext,
  now: IndexNow,
  figures: Omit<IndexFigures, 'action'>,
): Promise<IndexFigures> {
  try {
    await reindexConcurrently(ctx.session, now.name, ctx.config.INDEX_BUILD_MEMORY_MB);
  } catch (error) {
    const reason = `${figures.reason}; REINDEX failed: ${(error as Error).message}`;
    return { ...figures, action: 'failed', reason };
  }
  const after = await indexNow(ctx.session, now.name);
  const scope: [string, string] = [ctx.chunks.projection.space, ctx.chunks.projection.chunker];
  if (after) await indexBaselines.record(ctx.session, after, await chunksNow(ctx.session, scope), true);
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
