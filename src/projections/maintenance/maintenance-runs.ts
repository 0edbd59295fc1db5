import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';
import type { MaintenanceReport } from './maintenance-report.js';

/**
 * `maintenance_runs` (migration 0018): every run's report, written when it starts and when it ends. Only the
 * caller that holds the maintenance lock writes here.
 */
export const maintenanceRuns = {
  /**
   * A new run. Runs still marked running died with their process (the caller holds the lock, so no other run
   * is under way): they are marked interrupted first.
   */
  async begin(on: SqlExecutor, report: MaintenanceReport): Promise<void> {
    await on.query(
      `UPDATE maintenance_runs SET status = 'interrupted', report = jsonb_set(report, '{status}', '"interrupted"')
       WHERE status = 'running'`,
    );
    await on.query(
      `INSERT INTO maintenance_runs (run_id, trigger, status, started_at, report) VALUES ($1, $2, $3, $4, $5::jsonb)`,
      [report.runId, report.trigger, report.status, report.startedAt, JSON.stringify(report)],
    );
  },

  /** The run's final report; then only the newest `keep` runs stay. */
  async finish(on: SqlExecutor, report: MaintenanceReport, keep: number): Promise<void> {
    await on.query(
      `UPDATE maintenance_runs SET status = $2, finished_at = $3, report = $4::jsonb WHERE run_id = $1`,
      [report.runId, report.status, report.finishedAt, JSON.stringify(report)],
    );
    await on.query(
      `DELETE FROM maintenance_runs WHERE seq <= (SELECT seq FROM maintenance_runs ORDER BY seq DESC OFFSET $1 LIMIT 1)`,
      [keep],
    );
  },

  /** The newest `limit` reports, newest first. */
  async list(on: SqlExecutor, limit: number): Promise<MaintenanceReport[]> {
    const { rows } = await on.query<{ report: MaintenanceReport }>(
      `SELECT report FROM maintenance_runs ORDER BY seq DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.report);
  },
};
