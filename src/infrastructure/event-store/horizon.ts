/**
 * The late-commit horizon (emmett's rule): positions are handed out before commit, so a reader of the global order
 * must stop below the oldest transaction still running, or it would pass over an event that commits later with a
 * smaller position. Every reader of the global order (the event store, the projection engine, the changelog)
 * builds its condition here.
 *
 * `txColumn` holds the appending transaction's id: `xid8` in `events`, `bigint` where a read model copied it.
 */
export function settledTransactions(txColumn: string, type: 'xid8' | 'bigint' = 'xid8'): string {
  const horizon = 'pg_snapshot_xmin(pg_current_snapshot())';
  return `${txColumn} < ${type === 'xid8' ? horizon : `${horizon}::text::bigint`}`;
}

export type SettledCondition = typeof settledTransactions;

/**
 * The condition a reader of an inline read model's positions (the changelog) keeps to. With EventStoreDB the read
 * models are written by projectors in `$all`'s order, of committed events only: every row is settled.
 */
export const READ_MODEL_HORIZON = Symbol('READ_MODEL_HORIZON');
export const everySettled: SettledCondition = () => 'TRUE';
