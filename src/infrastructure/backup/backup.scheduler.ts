import { Global, Inject, Injectable, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CLOCK, type Clock } from '../clock/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Metrics } from '../metrics/metrics.js';
import { scheduleCron, SingleRun } from '../schedule/cron-job.js';
import { runInBackground } from '../sql/background-work.js';
import { withSessionLock } from '../sql/session-lock.js';
import { SQL_CLIENT, type SqlClient } from '../sql/sql-client.js';
import { nextKind, scheduledBackup, writeLedger } from './backup-directory.js';
import type { BackupResult } from './take-backup.js';

export const BACKUP_JOB = 'backup';
const BACKUP_LOCK = 'docsvc:scheduled-backup';

/**
 * Scheduled backups (BACKUP_CRON into BACKUP_DIR; off unless both are set), in `serve` processes. Several
 * processes on one database take turns by an advisory lock: one backup per tick. A failure is logged and the
 * service goes on; the next tick tries again.
 */
@Injectable()
export class BackupScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('backup');
  private readonly single = new SingleRun<BackupResult | undefined>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SchedulerRegistry) private readonly registry: SchedulerRegistry,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.BACKUP_CRON || !this.config.BACKUP_DIR || !this.config.PROJECTOR_ENABLED) return;
    scheduleCron(this.registry, BACKUP_JOB, this.config.BACKUP_CRON, () => this.tick());
  }

  /** Starts a backup unless one is under way here or in another process; resolves with it (or undefined). */
  tick(): Promise<BackupResult | undefined> {
    return this.single.start(async () => {
      try {
        const outcome = await withSessionLock(this.sql, BACKUP_LOCK, () =>
          runInBackground(() => this.backup()),
        );
        return outcome.ran ? outcome.value : undefined;
      } catch (error) {
        this.logger.error(`scheduled backup failed: ${(error as Error).message}`);
        return undefined;
      }
    });
  }

  private async backup(): Promise<BackupResult> {
    const policy = {
      dir: this.config.BACKUP_DIR!,
      chainLength: this.config.BACKUP_CHAIN_LENGTH,
      retainChains: this.config.BACKUP_RETAIN_CHAINS,
    };
    const planned = await nextKind(policy);
    const result = await scheduledBackup(this.sql, policy, this.clock.now()).catch((error: unknown) => {
      this.metrics.backupRun({ kind: planned, result: 'failed' });
      throw error;
    });
    const { kind, parts } = result.manifest;
    this.metrics.backupRun({ kind, result: 'ok', bytes: result.bytes, seconds: result.seconds });
    this.logger.log(
      `backup ${result.file}: ${kind}, ${parts.events?.count ?? 0} events, ${result.bytes} bytes` +
        (result.deleted.length ? `; deleted ${result.deleted.length} old file(s)` : ''),
    );
    return result;
  }
}

/**
 * The erasure ledger kept beside the backups: rewritten after every erasure, so a restore of a chain taken
 * before it can erase the document again even when the database it came from is gone.
 */
@Injectable()
export class ErasureLedger {
  private readonly logger = new Logger('erasure-ledger');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async recorded(): Promise<void> {
    if (!this.config.BACKUP_DIR) return;
    await writeLedger(this.sql, this.config.BACKUP_DIR).catch((error: unknown) =>
      this.logger.error(`the erasure ledger in BACKUP_DIR could not be written: ${(error as Error).message}`),
    );
  }
}

@Global()
@Module({ providers: [BackupScheduler, ErasureLedger], exports: [BackupScheduler, ErasureLedger] })
export class BackupModule {}
