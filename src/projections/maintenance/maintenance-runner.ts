import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AppError } from '../../domain/errors.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import { APP_CONFIG, type AppConfig } from '../../infrastructure/config/config.js';
import type { EventRegistry } from '../../infrastructure/event-store/event-registry.js';
import { EVENT_REGISTRY } from '../../infrastructure/event-store/event-types.js';
import { Metrics } from '../../infrastructure/metrics/metrics.js';
import {
  noMaintenanceRecorder,
  type MaintenanceRecorder,
} from '../../infrastructure/metrics/operations-recorder.js';
import { withSessionLock } from '../../infrastructure/sql/session-lock.js';
import { runInBackground } from '../../infrastructure/sql/background-work.js';
import { SQL_CLIENT, type SqlClient, type SqlSession } from '../../infrastructure/sql/sql-client.js';
import { checkConsistency } from './consistency.task.js';
import {
  MAINTENANCE_CHUNKS,
  type MaintenanceChunks,
  type MaintenanceContext,
} from './maintenance-context.js';
import {
  runStatus,
  skipped,
  type MaintenanceReport,
  type MaintenanceTrigger,
  type TaskName,
  type TaskOutcome,
  type TaskReport,
} from './maintenance-report.js';
import { maintenanceRuns } from './maintenance-runs.js';
import { removeOrphanFiles } from './orphan-files.task.js';
import { removeOrphans } from './orphans.task.js';
import { removeExpiredQueryCache } from './query-cache.task.js';
import { vacuumReadTables } from './vacuum.task.js';
import { rebuildBloatedVectorIndexes } from './vector-index.task.js';

/** The session-level advisory lock one run holds, across every process on the database. */
export const MAINTENANCE_LOCK = 'docsvc:maintenance';

export class MaintenanceRunningError extends AppError {
  readonly code = 'MAINTENANCE_RUNNING';
  readonly status = 409;
  constructor(
    message = 'a maintenance run is under way (in this or another process); try again when it ends',
  ) {
    super(message);
  }
}

/**
 * The tasks, in the order they run. An erasure's leftovers go before the consistency check (it would read the
 * erased document's events with a key that should be gone); the check repairs the read models that orphaned
 * files are judged against, and reads from the events which files are referred to. VACUUM comes after the
 * deletions, and the vector index is judged on the vacuumed table.
 */
const TASKS: Array<[TaskName, (ctx: MaintenanceContext) => Promise<TaskOutcome>]> = [
  ['query-cache', removeExpiredQueryCache],
  ['orphans', removeOrphans],
  ['consistency', checkConsistency],
  ['orphan-files', removeOrphanFiles],
  ['vacuum', vacuumReadTables],
  ['vector-index', rebuildBloatedVectorIndexes],
];

/** Tasks that read the event log's table in PostgreSQL; with EventStoreDB they do not apply (yet). */
const READS_POSTGRES_LOG = new Set<TaskName>(['orphans', 'consistency', 'orphan-files']);
const ESDB_SKIP_REASON =
  'reads the event log in PostgreSQL; with EVENT_STORE=eventstoredb it is in EventStoreDB';

/**
 * One maintenance run (docs/maintenance.md): the tasks one after the other, each with its own status, under a
 * session-level advisory lock (a crash closes the session and frees it) that a second run, in this process or
 * another, does not wait for: it is refused with 409 MAINTENANCE_RUNNING. Scheduled runs, POST /admin/maintenance
 * and `docsvc maintenance` all come here. The run's report is kept in maintenance_runs and returned.
 */
@Injectable()
export class MaintenanceRunner {
  private readonly logger = new Logger('maintenance');

  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(MAINTENANCE_CHUNKS) private readonly chunks: MaintenanceChunks,
    @Optional() @Inject(Metrics) private readonly metrics: MaintenanceRecorder = noMaintenanceRecorder,
  ) {}

  async run(trigger: MaintenanceTrigger): Promise<MaintenanceReport> {
    const outcome = await withSessionLock(this.sql, MAINTENANCE_LOCK, (session) =>
      // Background work: on the embedded database, requests' statements go first (pglite-client.ts).
      runInBackground(() => this.runLocked(session, trigger)),
    );
    if (!outcome.ran) {
      this.metrics.maintenanceRun({ result: 'skipped' });
      throw new MaintenanceRunningError();
    }
    const report = outcome.value;
    this.metrics.maintenanceRun({ result: resultOf(report), seconds: (report.durationMs ?? 0) / 1000 });
    return report;
  }

  private async runLocked(session: SqlSession, trigger: MaintenanceTrigger): Promise<MaintenanceReport> {
    const started = performance.now();
    const report: MaintenanceReport = {
      runId: randomUUID(),
      trigger,
      status: 'running',
      startedAt: this.clock.now().toISOString(),
      finishedAt: null,
      durationMs: null,
      tasks: [],
    };
    await maintenanceRuns.begin(this.sql, report);
    const ctx = await this.context(session);
    for (const [name, task] of TASKS)
      report.tasks.push(
        await this.runTask(name, () =>
          this.config.EVENT_STORE !== 'postgres' && READS_POSTGRES_LOG.has(name)
            ? Promise.resolve(skipped(ESDB_SKIP_REASON))
            : task(ctx),
        ),
      );
    report.status = runStatus(report.tasks);
    report.finishedAt = this.clock.now().toISOString();
    report.durationMs = Math.round(performance.now() - started);
    await maintenanceRuns.finish(this.sql, report, this.config.MAINTENANCE_RUNS_KEPT);
    this.logger.log(
      `maintenance run ${report.runId} (${trigger}) ${report.status}: ` +
        report.tasks.map((t) => `${t.name}: ${t.summary}`).join('; '),
    );
    return report;
  }

  private async context(session: SqlSession): Promise<MaintenanceContext> {
    const { rows } = await session.query<{ now: string }>(`SELECT now()::text AS now`);
    return {
      sql: this.sql,
      session,
      config: this.config,
      registry: this.registry,
      chunks: this.chunks,
      logger: this.logger,
      startedAt: rows[0]!.now,
    };
  }

  /** A task that throws fails alone: its error is its reason, and the next task runs. */
  private async runTask(name: TaskName, task: () => Promise<TaskOutcome>): Promise<TaskReport> {
    const started = performance.now();
    let outcome: TaskOutcome;
    try {
      outcome = await task();
    } catch (error) {
      const reason = (error as Error).message;
      this.logger.error(`maintenance task ${name} failed: ${reason}`);
      outcome = { status: 'failed', summary: `failed: ${reason}`, rows: 0, bytes: 0, details: {}, reason };
    }
    return { name, ...outcome, durationMs: Math.round(performance.now() - started) };
  }
}

/** The metrics' result of a run: failed, repaired (the consistency check repaired a document), or ok. */
function resultOf(report: MaintenanceReport): 'ok' | 'repaired' | 'failed' {
  if (report.status === 'failed') return 'failed';
  const consistency = report.tasks.find((t) => t.name === 'consistency');
  return Number(consistency?.details.documentsRepaired ?? 0) > 0 ? 'repaired' : 'ok';
}
