import type { Projection } from '../../projections/projection.js';
import { formatPosition } from '../event-store/position.js';
import type { SqlExecutor } from '../sql/sql-client.js';

export interface Checkpoint {
  position: string | undefined;
  status: 'building' | 'live' | 'retired';
  eventsApplied: number;
  rebuildRequested: boolean;
  /** How many rebuilds have started (reset the checkpoint) so far. */
  rebuilds: number;
}

interface Row {
  tx: string;
  seq: string;
  status: Checkpoint['status'];
  events_applied: string;
  rebuild_requested: boolean;
  rebuilds: number;
}

/** The checkpoint table, one row per projection name and version; every write goes through the caller's tx. */
export const checkpoints = {
  async read(on: SqlExecutor, p: Projection): Promise<Checkpoint | undefined> {
    const { rows } = await on.query<Row>(
      `SELECT position_tx::text AS tx, position_seq::text AS seq, status, events_applied::text,
              rebuild_requested_at IS NOT NULL AS rebuild_requested, rebuilds
       FROM projection_checkpoints WHERE name = $1 AND version = $2`,
      [p.name, p.version],
    );
    const row = rows[0];
    if (!row) return undefined;
    const atStart = row.tx === '0' && row.seq === '0';
    return {
      position: atStart ? undefined : formatPosition({ tx: BigInt(row.tx), seq: BigInt(row.seq) }),
      status: row.status,
      eventsApplied: Number(row.events_applied),
      rebuildRequested: row.rebuild_requested,
      rebuilds: Number(row.rebuilds),
    };
  },

  /** First start of this version: an empty read model and a checkpoint at the start, committed together. */
  async create(tx: SqlExecutor, p: Projection): Promise<void> {
    await p.truncate(tx);
    await tx.query(
      `INSERT INTO projection_checkpoints (name, version) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [p.name, p.version],
    );
  },

  async advance(tx: SqlExecutor, p: Projection, position: string, applied: number): Promise<void> {
    const [txid, seq] = position.split('.');
    await tx.query(
      `UPDATE projection_checkpoints SET position_tx = $3::text::xid8, position_seq = $4::bigint,
         events_applied = events_applied + $5, updated_at = now()
       WHERE name = $1 AND version = $2`,
      [p.name, p.version, txid, seq, applied],
    );
  },

  async reset(tx: SqlExecutor, p: Projection): Promise<void> {
    await p.truncate(tx);
    await tx.query(
      `UPDATE projection_checkpoints SET position_tx = '0', position_seq = 0, events_applied = 0, status = 'building',
         rebuild_requested_at = NULL, rebuilds = rebuilds + 1, updated_at = now()
       WHERE name = $1 AND version = $2`,
      [p.name, p.version],
    );
  },

  /** Caught up: this version goes live and older versions of the same projection retire. */
  async goLive(tx: SqlExecutor, p: Projection): Promise<void> {
    await tx.query(
      `UPDATE projection_checkpoints SET status = CASE WHEN version = $2 THEN 'live' ELSE 'retired' END, updated_at = now()
       WHERE name = $1 AND (version = $2 OR (version < $2 AND status <> 'retired'))`,
      [p.name, p.version],
    );
  },

  async requestRebuild(on: SqlExecutor, p: Projection): Promise<boolean> {
    const { rowCount } = await on.query(
      `UPDATE projection_checkpoints SET rebuild_requested_at = now() WHERE name = $1 AND version = $2`,
      [p.name, p.version],
    );
    return rowCount > 0;
  },
};
