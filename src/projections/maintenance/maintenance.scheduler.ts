import { scheduleCron, SingleRun } from '../../infrastructure/schedule/cron-job.js';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../../infrastructure/config/config.js';
import type { MaintenanceReport } from './maintenance-report.js';
import { MaintenanceRunner, MaintenanceRunningError } from './maintenance-runner.js';

export const MAINTENANCE_JOB = 'maintenance';

/**
 * Scheduled maintenance (@nestjs/schedule, MAINTENANCE_CRON, daily at 02:00 by default), in the processes that
 * run projectors (`serve`), unless MAINTENANCE_ENABLED is false. Several such processes all tick: the first to
 * take the maintenance lock runs, the others find it taken and skip this tick. A failure is logged and never
 * stops the service; the next tick tries again.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('maintenance');
  private readonly single = new SingleRun<MaintenanceReport | undefined>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SchedulerRegistry) private readonly registry: SchedulerRegistry,
    @Inject(MaintenanceRunner) private readonly runner: MaintenanceRunner,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.MAINTENANCE_ENABLED || !this.config.PROJECTOR_ENABLED) return;
    scheduleCron(this.registry, MAINTENANCE_JOB, this.config.MAINTENANCE_CRON, () => this.tick());
  }

  /** Starts a run unless this process's last is still going; resolves with its report (undefined: none ran). */
  tick(): Promise<MaintenanceReport | undefined> {
    return this.single.start(() => this.run());
  }

  private async run(): Promise<MaintenanceReport | undefined> {
    try {
      return await this.runner.run('schedule');
    } catch (error) {
      if (error instanceof MaintenanceRunningError)
        this.logger.log('scheduled maintenance skipped: another run holds the lock');
      else this.logger.error(`scheduled maintenance failed: ${(error as Error).message}`);
      return undefined;
    }
  }
}
