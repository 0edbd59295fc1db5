import { AppError } from '../../domain/errors.js';
import { handledBy, type AsyncProjection, type Projection } from './projection.js';
import type { EventStore } from '../event-store/event-store.js';
import type { SqlClient } from '../sql/sql-client.js';
import { checkpoints } from './checkpoints.js';
import { PROJECTIONS_CHANNEL, Projector, type ProjectorOptions, type ProjectorState } from './projector.js';

export interface ProjectionStatus {
  name: string;
  version: number;
  kind: 'inline' | 'async';
  position: string | null;
  /** Events in the global order after the checkpoint (0 = caught up). */
  lag: number;
  status: 'building' | 'live' | 'retired' | 'not_started';
  /** What this process does for it: active (projecting), standby (another process is), stopped. */
  projector: ProjectorState | 'inline';
  lastError: string | null;
  /** Rebuilds started so far, and whether one is asked for and not yet started. */
  rebuilds?: number;
  rebuildRequested?: boolean;
}

/** Lag is counted up to this many events: beyond it the figure says only "at least". */
export const LAG_COUNT_CAP = 1_000_000;

export class UnknownProjectionError extends AppError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor(name: string) {
    super(`no projection is named ${name}`);
  }
}

/** Owns the async projectors of this process and answers for every projection's state. */
export class ProjectionEngine {
  private readonly projectors: Projector[];
  private readonly batch: { limit: number; maxBytes?: number };
  private unwatch: (() => Promise<void>) | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly store: EventStore,
    private readonly inline: readonly Projection[],
    asyncProjections: readonly AsyncProjection[],
    options: ProjectorOptions,
  ) {
    this.projectors = asyncProjections.map((p) => new Projector(sql, store, p, options));
    this.batch = { limit: options.batchSize, maxBytes: options.batchBytes };
  }

  start(): void {
    for (const projector of this.projectors) projector.start();
    this.unwatch ??= this.store.watch?.(() => this.projectors.forEach((p) => p.poke()));
  }

  async stop(): Promise<void> {
    const unwatch = this.unwatch;
    this.unwatch = undefined;
    await unwatch?.();
    await Promise.all(this.projectors.map((p) => p.stop()));
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.head();
    const inline = this.inline.map<ProjectionStatus>((p) => ({
      name: p.name,
      version: p.version,
      kind: 'inline',
      position: head ?? null,
      lag: 0,
      status: 'live',
      projector: 'inline',
      lastError: null,
    }));
    const asyncStatuses = await Promise.all(
      this.projectors.map(async (projector): Promise<ProjectionStatus> => {
        const p = projector.projection;
        const checkpoint = await checkpoints.read(this.sql, p);
        return {
          name: p.name,
          version: p.version,
          kind: 'async',
          position: checkpoint?.position ?? null,
          lag: await this.lag(checkpoint?.position),
          status: checkpoint?.status ?? 'not_started',
          projector: projector.state,
          lastError: projector.lastError?.message ?? null,
          rebuilds: checkpoint?.rebuilds ?? 0,
          rebuildRequested: checkpoint?.rebuildRequested ?? false,
        };
      }),
    );
    return [...inline, ...asyncStatuses];
  }

  /**
   * An inline projection is rebuilt here and now ('rebuilt'). An async one: asks the active projector (in
   * whichever process) to truncate, reset and replay ('rebuild_requested'). Its reset commits with the
   * truncation, and replay checkpoints every batch, so a crash mid-rebuild resumes where it stopped.
   */
  async requestRebuild(name: string): Promise<'rebuilt' | 'rebuild_requested'> {
    const inline = this.inline.find((p) => p.name === name);
    if (inline) {
      await this.rebuildInline(inline);
      return 'rebuilt';
    }
    const projector = this.projectors.find((p) => p.projection.name === name);
    if (!projector) throw new UnknownProjectionError(name);
    const requested = await checkpoints.requestRebuild(this.sql, projector.projection);
    // No checkpoint yet means the projection has not started: its first start builds it from scratch anyway.
    if (requested) await this.sql.query(`SELECT pg_notify($1, $2)`, [PROJECTIONS_CHANNEL, name]);
    projector.poke();
    return 'rebuild_requested';
  }

  /**
   * Truncates and replays an inline read model in one transaction, with the service up. Appends apply inline
   * projections in their own transaction, so a write committing meanwhile must be either in the replay or
   * applied after it. The rebuild first takes `streams` in EXCLUSIVE mode: every append writes its stream's row
   * there first, so appends already running finish before the lock is granted (and are read by the replay), and
   * later ones wait for the rebuild to commit (and apply to the rebuilt model). Reads of `streams` go on. The
   * alternative, a global lock in every append, would serialise all appends all the time for a rare admin act.
   * With appends blocked, the replay reads every committed event: none can commit behind it.
   */
  private async rebuildInline(p: Projection): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('LOCK TABLE streams IN EXCLUSIVE MODE');
      await p.truncate(tx);
      for (let after: string | undefined; ;) {
        const page = await this.store.readAll({ after, ...this.batch, appendsBlocked: true }, tx);
        if (page.events.length === 0) return;
        const mine = handledBy(p, page.events);
        if (mine.length > 0) await p.apply(tx, mine);
        after = page.last;
      }
    });
  }

  /**
   * Resolves once every async projection's checkpoint (or only `only`'s) has reached `position` (or the head
   * when omitted).
   */
  async waitUntilCaughtUp(options: {
    position?: string;
    timeoutMs: number;
    only?: AsyncProjection;
  }): Promise<boolean> {
    const target = options.position ?? (await this.store.head());
    if (!target) return true;
    const watched = options.only ? [options.only] : this.projectors.map((p) => p.projection);
    return checkpoints.waitFor(this.sql, watched, target, options.timeoutMs);
  }

  private lag(position: string | undefined): Promise<number> {
    return this.store.countAfter(position, LAG_COUNT_CAP);
  }
}
