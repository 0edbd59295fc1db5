/** What started a run. */
export type MaintenanceTrigger = 'schedule' | 'api' | 'cli';

export type TaskName = 'query-cache' | 'orphans' | 'consistency' | 'orphan-files' | 'vacuum' | 'vector-index';

/**
 * One task's part of a report. Each task has a status of its own, so one that fails does not hide what the
 * others found. `rows` and `bytes` are the task's effect: rows removed or rewritten, bytes they took (or, for
 * VACUUM and REINDEX, bytes the tables and indexes shrank by). `details` holds the task's own figures.
 */
export interface TaskReport {
  name: TaskName;
  status: 'succeeded' | 'failed' | 'skipped';
  durationMs: number;
  /** One line for people (the CLI, the log). */
  summary: string;
  rows: number;
  bytes: number;
  details: Record<string, unknown>;
  /** Why it was skipped, or why it failed. */
  reason?: string;
}

export interface MaintenanceReport {
  runId: string;
  trigger: MaintenanceTrigger;
  /** `running` until it ends; `interrupted`: its process died before it ended. */
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  tasks: TaskReport[];
}

/** What a task returns; the runner adds its name and duration. */
export type TaskOutcome = Omit<TaskReport, 'name' | 'durationMs'>;

export const nothingDone = (summary: string, details: Record<string, unknown> = {}): TaskOutcome => ({
  status: 'succeeded',
  summary,
  rows: 0,
  bytes: 0,
  details,
});

export const skipped = (reason: string, details: Record<string, unknown> = {}): TaskOutcome => ({
  status: 'skipped',
  summary: `skipped: ${reason}`,
  rows: 0,
  bytes: 0,
  details,
  reason,
});

/** A skipped task is one that does not apply here (the vector index on the embedded database): not a failure. */
export function runStatus(tasks: readonly TaskReport[]): 'succeeded' | 'failed' {
  return tasks.every((t) => t.status !== 'failed') ? 'succeeded' : 'failed';
}

/** Bytes for people: 0 B, 12.3 kB, 4.5 MB (powers of 1,000, as the rest of the service's figures). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(1);
  return `${bytes < 0 ? '-' : ''}${shown} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The report as a few lines: the run, then one line per task. */
export function describeReport(report: MaintenanceReport): string {
  const took = report.durationMs === null ? '' : ` in ${formatDuration(report.durationMs)}`;
  const head = `maintenance run ${report.runId} (${report.trigger}): ${report.status}${took}`;
  const lines = report.tasks.map(
    (t) =>
      `  ${t.name.padEnd(13)} ${t.status.padEnd(10)} ${formatDuration(t.durationMs).padStart(8)}  ${t.summary}`,
  );
  return [head, ...lines].join('\n');
}
