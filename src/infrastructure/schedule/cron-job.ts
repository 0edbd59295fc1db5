import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';

/**
 * Registers a job with @nestjs/schedule's registry (listed and stopped with the application) that calls `tick`
 * on `cronTime`. The job's own errors are the tick's to handle: a scheduled job must never stop the service.
 */
export function scheduleCron(
  registry: SchedulerRegistry,
  name: string,
  cronTime: string,
  tick: () => unknown,
): void {
  const job = CronJob.from({ cronTime, onTick: () => void tick(), start: true });
  registry.addCronJob(name, job as never);
}

/** Runs `work` unless a run started here is still going, in which case that run's promise is returned. */
export class SingleRun<T> {
  private running: Promise<T> | undefined;

  start(work: () => Promise<T>): Promise<T> {
    this.running ??= work().finally(() => (this.running = undefined));
    return this.running;
  }
}
