import { statementPattern } from './statement-pattern.js';

/** One pattern's figures, in the shape of a pg_stat_statements row. */
export interface StatementStats {
  pattern: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  /** Rows returned or affected, over all calls. */
  rows: number;
  meanRows: number;
}

/**
 * The store holds at most this many patterns. The service's statements are a few hundred fixed texts; the bound
 * is for texts built with names or literals inlined, which would otherwise grow it without end.
 */
export const MAX_PATTERNS = 500;

interface Entry {
  calls: number;
  totalMs: number;
  maxMs: number;
  rows: number;
}

/**
 * The service's own timing of its SQL (when the server's pg_stat_statements is not there): each statement that
 * took at least `thresholdMs`, as the service waited for it (queueing for a pooled connection or the embedded
 * database's one session included), summed by pattern. When full, a new pattern takes the place of the one with
 * the least total time, as pg_stat_statements deallocates its least-used entries.
 */
export class StatementTimings {
  private readonly entries = new Map<string, Entry>();

  /** `since`: when timing began (the report says so). */
  constructor(
    readonly thresholdMs: number,
    readonly since: Date,
    private readonly maxPatterns = MAX_PATTERNS,
  ) {}

  /** Called for every statement: only the slow ones are normalised and kept. */
  record(text: string, ms: number, rows: number): void {
    if (ms < this.thresholdMs) return;
    const pattern = statementPattern(text);
    let entry = this.entries.get(pattern);
    if (!entry) {
      if (this.entries.size >= this.maxPatterns) this.evictLeastTotal();
      entry = { calls: 0, totalMs: 0, maxMs: 0, rows: 0 };
      this.entries.set(pattern, entry);
    }
    entry.calls++;
    entry.totalMs += ms;
    entry.maxMs = Math.max(entry.maxMs, ms);
    entry.rows += rows;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every pattern, the most total time first. */
  all(): StatementStats[] {
    return [...this.entries]
      .map(([pattern, e]) => ({
        pattern,
        calls: e.calls,
        totalMs: e.totalMs,
        meanMs: e.totalMs / e.calls,
        maxMs: e.maxMs,
        rows: e.rows,
        meanRows: e.rows / e.calls,
      }))
      .sort((a, b) => b.totalMs - a.totalMs);
  }

  private evictLeastTotal(): void {
    let least: [string, number] | undefined;
    for (const [pattern, e] of this.entries) if (!least || e.totalMs < least[1]) least = [pattern, e.totalMs];
    if (least) this.entries.delete(least[0]);
  }
}
