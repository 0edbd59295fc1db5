import type { ReadinessCheck } from '../../infrastructure/health/readiness-check.js';
import { countsBy } from '../../infrastructure/health/row-counts.js';

const STATUSES = ['active', 'retired', 'erased'] as const;

/**
 * Readiness's `documents`: the documents read model's rows per status (every status named, zero included), counted
 * while the table is small and estimated from the planner's statistics beyond (`estimated: true`).
 */
export const documentCountsCheck: ReadinessCheck = {
  name: 'documents',
  async check(sql) {
    const counts = await countsBy(sql, 'documents', 'status');
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, counts.by[s] ?? 0]));
    return { status: 'ok', total: counts.total, byStatus, estimated: counts.estimated };
  },
};
