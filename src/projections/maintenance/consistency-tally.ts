import type { Logger } from '@nestjs/common';
import { NONE, plus, type Removed } from './maintenance-context.js';
import type { TaskOutcome } from './maintenance-report.js';
import type { RepairOutcome } from './read-model-repair.js';
import type { Difference } from './replay-compare.js';

/** The report keeps this many of each list (the log has every difference); totals are always whole. */
export const REPORTED_MAX = 1000;

export type ReportedDifference = Difference & { repaired: boolean; note?: string };

interface Problem {
  documentId?: string;
  readModel?: string;
  /** The batch's first and last stream, when a whole batch could not be read. */
  streams?: string;
  reason: string;
}

/** What the consistency check found and did, for its report. */
export class ConsistencyTally {
  documents = 0;
  chunkVersions = 0;
  chunksNotYetProjected = 0;
  private everyBatchRead = true;
  private differencesTotal = 0;
  private readonly differences: ReportedDifference[] = [];
  private readonly repaired = new Set<string>();
  private removed: Removed = NONE;
  private readonly deferred: Problem[] = [];
  private readonly failed: Problem[] = [];
  private unreadable = 0;

  constructor(private readonly logger: Logger) {}

  /** Every document's events were read (none failed, none without its key). */
  get everyDocumentRead(): boolean {
    return this.everyBatchRead && this.unreadable === 0;
  }

  /** Differences of one read model of one document, and what its repair did. */
  record(found: readonly Difference[], outcome: RepairOutcome | Error): void {
    const at = { documentId: found[0]!.documentId, readModel: found[0]!.readModel };
    if (outcome instanceof Error) {
      this.keep(this.failed, { ...at, reason: outcome.message });
      this.add(found, false, `not repaired: ${outcome.message}`);
    } else if ('deferred' in outcome) {
      this.keep(this.deferred, { ...at, reason: outcome.deferred });
      this.add(found, false, `checked again by the next run: ${outcome.deferred}`);
    } else {
      this.repaired.add(at.documentId);
      this.removed = plus(this.removed, outcome.repaired);
      this.add(found, true);
    }
  }

  /** Differences maintenance cannot repair (a document without its key): the operator has to. */
  unrepairable(found: readonly Difference[], why: string): void {
    this.unreadable++;
    this.add(found, false, why);
  }

  batchFailed(streamIds: readonly string[], error: Error): void {
    this.everyBatchRead = false;
    this.keep(this.failed, { streams: `${streamIds[0]}…${streamIds.at(-1)}`, reason: error.message });
    this.logger.error(`consistency check of ${streamIds.length} documents failed: ${error.message}`);
  }

  outcome(): TaskOutcome {
    const failed = this.failed.length > 0 || this.unreadable > 0;
    const problems = [
      this.failed.length > 0 ? `${this.failed.length} failure(s)` : '',
      this.unreadable > 0 ? `${this.unreadable} document(s) without a key` : '',
      this.deferred.length > 0 ? `${this.deferred.length} repair(s) put off to the next run` : '',
    ].filter(Boolean);
    return {
      status: failed ? 'failed' : 'succeeded',
      summary:
        `${this.documents} document(s) and ${this.chunkVersions} chunk version(s) checked, ` +
        `${this.differencesTotal} difference(s), ${this.repaired.size} document(s) repaired` +
        (problems.length > 0 ? `; ${problems.join(', ')}` : ''),
      ...this.removed,
      details: {
        documents: this.documents,
        chunkVersions: this.chunkVersions,
        chunksNotYetProjected: this.chunksNotYetProjected,
        differencesTotal: this.differencesTotal,
        differences: this.differences,
        documentsRepaired: this.repaired.size,
        deferred: this.deferred,
        failed: this.failed,
        documentsWithoutKey: this.unreadable,
      },
      ...(failed ? { reason: problems.join(', ') } : {}),
    };
  }

  private add(found: readonly Difference[], repaired: boolean, note?: string): void {
    for (const d of found) {
      this.differencesTotal++;
      if (this.differences.length < REPORTED_MAX)
        this.differences.push({ ...d, repaired, ...(note ? { note } : {}) });
      const where = `${d.readModel}${d.version === undefined ? '' : ` v${d.version}`} of document ${d.documentId}`;
      this.logger.warn(`${where}: ${d.field} differs from its events; ${repaired ? 'repaired' : note}`);
    }
  }

  private keep(list: Problem[], problem: Problem): void {
    if (list.length < REPORTED_MAX) list.push(problem);
  }
}
