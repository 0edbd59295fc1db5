/**
 * The typed API of the maintenance and backup metrics, for the code that runs them. `Metrics` implements both;
 * code outside Nest takes the interface and defaults to the no-op, so the CLI and tests need no registry.
 */

/**
 * A maintenance run's result: `ok` (it ran and found nothing to repair), `repaired` (it ran and repaired read
 * models that differed from their events), `failed` (a task threw), `skipped` (another process holds the run).
 */
export type MaintenanceResult = 'ok' | 'repaired' | 'failed' | 'skipped';

export interface MaintenanceRun {
  result: MaintenanceResult;
  /** How long the run took, when it ran. */
  seconds?: number;
}

export interface MaintenanceRecorder {
  maintenanceRun(run: MaintenanceRun): void;
}

export type BackupKind = 'full' | 'incremental';

export interface BackupRun {
  kind: BackupKind;
  result: 'ok' | 'failed';
  /** The backup file's size, for a backup written whole. */
  bytes?: number;
  seconds?: number;
}

export interface BackupRecorder {
  backupRun(run: BackupRun): void;
}

export const noMaintenanceRecorder: MaintenanceRecorder = { maintenanceRun: () => undefined };
export const noBackupRecorder: BackupRecorder = { backupRun: () => undefined };
