import { scheduleCron, SingleRun } from '../../infrastructure/schedule/cron-job.js';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../../infrastructure/config/config.js';
import { CLOCK, type Clock } from '../../infrastructure/clock/clock.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { urlSources } from '../../infrastructure/url-sources/url-sources.js';
import { RefreshUrlSourceCommand, type RefreshOutcome } from './refresh-url.js';

export const URL_REFRESH_JOB = 'url-refresh';
/** Sources claimed at a time: a batch is leased, fetched one by one, then the next is claimed. */
const CLAIM_BATCH = 20;

/**
 * The scheduled refresh of URL sources (@nestjs/schedule, URL_REFRESH_CRON, daily by default): each tick claims
 * the due sources of active documents in batches and refreshes them one by one through the command bus. Claims
 * are leases taken with SKIP LOCKED, so several processes on one database share the work and never refresh a
 * source twice; a tick while the last is still running is skipped. Runs only where the projectors run (`serve`).
 */
@Injectable()
export class UrlRefreshScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('url-refresh');
  private readonly single = new SingleRun<Record<RefreshOutcome, number>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SchedulerRegistry) private readonly registry: SchedulerRegistry,
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.URL_REFRESH_ENABLED || !this.config.PROJECTOR_ENABLED) return;
    scheduleCron(this.registry, URL_REFRESH_JOB, this.config.URL_REFRESH_CRON, () => this.tick());
  }

  /** Starts a run unless one is under way; resolves with the run's counts. */
  tick(): Promise<Record<RefreshOutcome, number>> {
    return this.single.start(() => this.run());
  }

  private async run(): Promise<Record<RefreshOutcome, number>> {
    const counts: Record<RefreshOutcome, number> = {
      'not-modified': 0,
      unchanged: 0,
      updated: 0,
      failed: 0,
      gone: 0,
    };
    try {
      for (let due = await this.claim(); due.length > 0; due = await this.claim())
        for (const source of due) counts[await this.commands.execute(new RefreshUrlSourceCommand(source))]++;
    } catch (error) {
      // A database that went away ends this run; the next tick tries again. Nothing here may stop the service.
      this.logger.error(`the URL refresh stopped: ${(error as Error).message}`);
    }
    if (Object.values(counts).some((n) => n > 0))
      this.logger.log(`URL sources refreshed: ${JSON.stringify(counts)}`);
    return counts;
  }

  private claim() {
    return urlSources.claimDue(this.sql, this.clock.now(), CLAIM_BATCH);
  }
}
