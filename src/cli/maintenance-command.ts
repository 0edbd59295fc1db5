import type { AppConfig } from '../infrastructure/config/config.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import { describeReport } from '../projections/maintenance/maintenance-report.js';
import { MaintenanceRunner } from '../projections/maintenance/maintenance-runner.js';
import { withContext } from './app-context.js';
import { EXIT } from './cli-errors.js';

/**
 * `docsvc maintenance`: one run of the maintenance tasks on the configured database, as POST /admin/maintenance
 * runs them (the same lock: refused with MAINTENANCE_RUNNING while a service runs one). Exit 0 only when every
 * task succeeded (a task that does not apply here, such as the vector index on the embedded database, is skipped
 * and does not count as a failure).
 */
export async function runMaintenance(config: AppConfig, db?: SqlClient) {
  return withContext(config, { projectors: false, db }, async (get) => {
    const report = await get(MaintenanceRunner).run('cli');
    return {
      data: report,
      human: describeReport(report),
      exitCode: report.status === 'succeeded' ? EXIT.ok : EXIT.failed,
    };
  });
}
