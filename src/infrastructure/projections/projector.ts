import { handledBy, type AsyncProjection } from './projection.js';
import type { EventStore, RecordedEvent } from '../event-store/event-store.js';
import { EVENTS_CHANNEL } from '../event-store/postgres-event-store.js';
import { runInBackground } from '../sql/background-work.js';
import type { SqlClient, SqlSession } from '../sql/sql-client.js';
import { checkpoints } from './checkpoints.js';
import { ANALYZE_CHECK_EVENTS, analyzeStaleTables } from './table-statistics.js';

/** Default step budgets (ProjectorOptions.stepBudget); BENCHMARKS.md has what they were measured against. */
const PGLITE_STEP_BUDGET = 32;
const SERVER_STEP_BUDGET = 4_000;

export const PROJECTIONS_CHANNEL = 'docsvc_projections';

export type ProjectorState = 'stopped' | 'standby' | 'active';

export interface ProjectorOptions {
  batchSize: number;
  /** A batch also ends at this many bytes of payload (ReadAllOptions.maxBytes); unbounded when omitted. */
  batchBytes?: number;
  /** Longest wait between reads when no NOTIFY arrives (the fallback for lost notifications). */
  pollMs: number;
  /** How often a standby instance tries to take over. */
  standbyRetryMs: number;
  /**
   * The most work one transaction may do, in the projection's unit (AsyncProjection.steps); the default is
   * smaller on PGlite, whose single session waits for each transaction to end before it answers a search.
   */
  stepBudget?: number;
  onEvent?: (event: ProjectorEvent) => void;
}

export type ProjectorEvent =
  | { kind: 'state'; state: ProjectorState }
  | { kind: 'batch'; events: number; position: string }
  | { kind: 'step'; events: number; of: number }
  | { kind: 'idle'; position: string | null }
  /** Tables it ran ANALYZE on (table-statistics.ts), and how long that took. */
  | { kind: 'analyzed'; tables: string[]; ms: number }
  | { kind: 'error'; error: Error };

/**
 * Runs one async projection. Exactly one instance per projection and version is active across all processes:
 * it holds a session-level advisory lock, and writes each batch and its checkpoint in one transaction on that
 * same session — if the session dies, the lock goes with it and no stale writer can commit. Woken by
 * LISTEN/NOTIFY, with polling as the fallback.
 */
export class Projector {
  private currentState: ProjectorState = 'stopped';
  private session: SqlSession | undefined;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wakeSleeper: (() => void) | undefined;
  /** Set by a wake-up that arrives while no one sleeps, so that it is not lost. */
  private woken = false;
  private failures = 0;
  private setUp = false;
  /** This process has projected this version while it was building or live (see the retired case in `step`). */
  private wasActiveBefore = false;
  /** Events moved past since the tables were last checked for ANALYZE once caught up. */
  private sinceAnalyzed = 0;
  lastError: Error | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly store: EventStore,
    readonly projection: AsyncProjection,
    private readonly options: ProjectorOptions,
  ) {}

  get state(): ProjectorState {
    return this.currentState;
  }

  get lockName(): string {
    return `docsvc:projection:${this.projection.name}:v${this.projection.version}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = runInBackground(() => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loopDone;
  }

  /** Wakes the loop now (a local append, a rebuild request). */
  poke(): void {
    this.wake();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const session = await this.ensureSession();
        if (this.currentState !== 'active') {
          if (!(await session.tryLock(this.lockName))) {
            this.setState('standby');
            await this.sleep(this.options.standbyRetryMs);
            continue;
          }
          this.setState('active');
          this.setUp = false; // another process may have been active meanwhile: set up again
        }
        const applied = await this.step(session);
        this.failures = 0;
        this.lastError = undefined;
        if (applied === 0) await this.sleep(this.options.pollMs);
        // Between batches, let queries that arrived meanwhile go first: on PGlite they share one session with
        // the projector, and a catch-up would otherwise hold them until it ends.
        else await new Promise((resolve) => setTimeout(resolve, 0));
      } catch (error) {
        this.lastError = error as Error;
        this.options.onEvent?.({ kind: 'error', error: error as Error });
        await this.dropSession();
        this.failures++;
        await this.sleep(Math.min(30_000, 100 * 2 ** Math.min(this.failures, 9)));
      }
    }
    await this.dropSession();
    this.setState('stopped');
  }

  /** One batch; returns how many events it moved past (0 = caught up). */
  private async step(session: SqlSession): Promise<number> {
    const p = this.projection;
    this.woken = false;
    const checkpoint = await checkpoints.read(session, p);
    if (!checkpoint) {
      await session.transaction((tx) => checkpoints.create(tx, p));
      return 1;
    }
    if (checkpoint.status === 'retired') {
      // Another version went live. A process started with this configuration again (a deploy rolled back)
      // builds it anew; one that only kept it alive beside the new one (a companion), or that was already
      // running it before the switch, leaves it alone.
      if (p.companion || this.wasActiveBefore) return 0;
      await session.transaction((tx) => checkpoints.reset(tx, p));
      return 1;
    }
    this.wasActiveBefore = true;
    if (checkpoint.rebuildRequested) {
      await session.transaction((tx) => checkpoints.reset(tx, p));
      return 1;
    }
    if (!this.setUp) {
      await checkpoints.recordConfig(session, p);
      await p.setup?.(session);
      this.setUp = true;
    }
    const { events, last } = await this.store.readAll({
      after: checkpoint.position,
      limit: this.options.batchSize,
      maxBytes: this.options.batchBytes,
    });
    if (events.length === 0 || !last) {
      await p.idle?.(session);
      if (this.sinceAnalyzed >= ANALYZE_CHECK_EVENTS) await this.analyze(session, true);
      if (checkpoint.status === 'building') {
        const retired = await session.transaction((tx) => checkpoints.goLive(tx, p));
        for (const config of retired) await p.dropVersion?.(session, config);
      }
      this.options.onEvent?.({ kind: 'idle', position: checkpoint.position ?? null });
      return 0;
    }
    const mine = handledBy(p, events);
    const prepared = mine.length > 0 && p.prepare ? await p.prepare(session, mine) : undefined;
    await this.applyInSteps(session, mine, prepared, last);
    if (mine.length > 0) await p.afterCommit?.(session, mine);
    this.sinceAnalyzed += events.length;
    if (events.length >= this.options.batchSize) await this.analyze(session, false); // a backlog: loading
    this.options.onEvent?.({ kind: 'batch', events: events.length, position: last });
    return events.length;
  }

  /** The tables loaded meanwhile are analyzed (table-statistics.ts); a failure to does not stop projecting. */
  private async analyze(session: SqlSession, caughtUp: boolean): Promise<void> {
    if (caughtUp) this.sinceAnalyzed = 0;
    const started = performance.now();
    const tables = await analyzeStaleTables(session, caughtUp).catch((error: Error) => {
      this.options.onEvent?.({ kind: 'error', error });
      return [];
    });
    const ms = Math.round(performance.now() - started);
    if (tables.length > 0) this.options.onEvent?.({ kind: 'analyzed', tables, ms });
  }

  /**
   * The batch in steps of bounded work, each in its own transaction, the checkpoint with the last: a large
   * document is not one transaction that holds the database (and, on PGlite, every search) for minutes. A
   * crash between steps leaves the checkpoint before the batch, which is delivered again; `apply` is idempotent.
   */
  private async applyInSteps(session: SqlSession, mine: RecordedEvent[], prepared: unknown, last: string) {
    const p = this.projection;
    const steps =
      mine.length > 0 && p.steps ? p.steps(mine, prepared, this.stepBudget) : [{ events: mine, prepared }];
    for (const [i, step] of steps.entries()) {
      const final = i === steps.length - 1;
      await session.transaction(async (tx) => {
        if (step.events.length > 0) await p.apply(tx, step.events, step.prepared);
        if (final) await checkpoints.advance(tx, p, last, mine.length);
      });
      if (final) break;
      this.options.onEvent?.({ kind: 'step', events: step.events.length, of: mine.length });
      await new Promise((resolve) => setTimeout(resolve, 0)); // the requests that arrived meanwhile go first
    }
  }

  private get stepBudget(): number {
    return this.options.stepBudget ?? (this.sql.kind === 'pglite' ? PGLITE_STEP_BUDGET : SERVER_STEP_BUDGET);
  }

  private async ensureSession(): Promise<SqlSession> {
    if (this.session) return this.session;
    const session = await this.sql.session();
    session.onError(() => this.wake());
    await session.listen(EVENTS_CHANNEL, () => this.wake());
    await session.listen(PROJECTIONS_CHANNEL, () => this.wake());
    this.session = session;
    return session;
  }

  private async dropSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (this.currentState === 'active') this.setState('standby');
    if (session) {
      await session.unlock(this.lockName).catch(() => undefined);
      await session.release().catch(() => undefined);
    }
  }

  private setState(state: ProjectorState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.onEvent?.({ kind: 'state', state });
  }

  private wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }
}
