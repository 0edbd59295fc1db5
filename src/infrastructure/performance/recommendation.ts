import type { ProjectionStatus } from '../projections/projection-engine.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { StatementStats } from './statement-timings.js';

export type Severity = 'info' | 'warning' | 'critical';

/** One finding of the report: a stable `code` (docs/performance.md says what to do about each), and its figures. */
export interface Recommendation {
  code: string;
  severity: Severity;
  message: string;
  evidence: Record<string, unknown>;
}

/** A table of the service's schema as PostgreSQL's cumulative statistics see it (since their last reset). */
export interface TableStats {
  table: string;
  seqScans: number;
  idxScans: number;
  /** Rows read by the sequential scans. */
  seqRowsRead: number;
  liveRows: number;
  sizeBytes: number;
}

/** What every advisor is given: the database, the slow statements, the tables and the projections, read once. */
export interface AdviceContext {
  sql: SqlClient;
  statements: StatementStats[];
  tables: TableStats[];
  projections: ProjectionStatus[];
  /** Whether advisors may run measuring queries (bounded, but dearer than reading statistics). */
  measure: boolean;
}

export interface Advice {
  recommendations: Recommendation[];
  /** What the advisor looked at, shown in the report under its name even when it recommends nothing. */
  summary?: Record<string, unknown>;
}

/**
 * A part of the report. The generic ones (indexes, pagination) live here; a read model adds its own (the chunks'
 * vector index) through PERFORMANCE_ADVISORS, without this layer knowing it.
 */
export interface PerformanceAdvisor {
  readonly name: string;
  advise(context: AdviceContext): Promise<Advice>;
}

export const PERFORMANCE_ADVISORS = Symbol('PERFORMANCE_ADVISORS');
