import type { ProjectionStatus } from '../projections/projection-engine.js';
import type { SqlClient } from '../sql/sql-client.js';

/** One check of GET /health/ready: `down` makes the answer Service Unavailable, `degraded` only marks it. */
export interface Check {
  status: 'ok' | 'degraded' | 'down';
  /** Set when the check is ok but close to its limit (the database's size). */
  warning?: string;
  [detail: string]: unknown;
}

/** What every check may use without asking the database again: the projections' state of this answer. */
export interface ReadinessContext {
  projections: readonly ProjectionStatus[];
}

/**
 * A check a feature adds to readiness (the documents' counts, the search indexes): the read models belong to
 * their features, so their checks live there and are handed in through READINESS_CHECKS by the app module.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(sql: SqlClient, context: ReadinessContext): Promise<Check>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/**
 * DATABASE_SIZE_LIMIT_BYTES as a provider read at every check, so that a process embedding the service (and the
 * tests) can move the limit without a restart.
 */
export class DatabaseSizeLimit {
  constructor(public bytes: number) {}
}
