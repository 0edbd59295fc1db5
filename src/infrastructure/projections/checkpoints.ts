import type { AsyncProjection } from './projection.js';
import { comparePositions, formatPosition, parsePosition } from '../event-store/position.js';
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
  async read(on: SqlExecutor, p: AsyncProjection): Promise<Checkpoint | undefined> {
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
  /** Resolves true once every one of `projections` has its checkpoint at `position` or beyond; false at the timeout. */
  async waitFor(
    on: SqlExecutor,
    projections: readonly AsyncProjection[],
    position: string,
    timeoutMs: number,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const target = parsePosition(position);
    for (;;) {
      const reached = await Promise.all(projections.map((p) => checkpoints.read(on, p)));
      const behind = reached.some(
        (c) => !c?.position || comparePositions(parsePosition(c.position), target) < 0,
      );
      if (!behind) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  },

  async create(tx: SqlExecutor, p: AsyncProjection): Promise<void> {
    await p.truncate(tx);
    await tx.query(
      `INSERT INTO projection_checkpoints (name, version, config) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING`,
      [p.name, p.version, p.config ? JSON.stringify(p.config) : null],
    );
  },

  async advance(tx: SqlExecutor, p: AsyncProjection, position: string, applied: number): Promise<void> {
    const [txid, seq] = position.split('.');
    await tx.query(
      `UPDATE projection_checkpoints SET position_tx = $3::text::xid8, position_seq = $4::bigint,
         events_applied = events_applied + $5, updated_at = now()
       WHERE name = $1 AND version = $2`,
      [p.name, p.version, txid, seq, applied],
    );
  },

  async reset(tx: SqlExecutor, p: AsyncProjection): Promise<void> {
    await p.truncate(tx);
    await tx.query(
      `UPDATE projection_checkpoints SET position_tx = '0', position_seq = 0, events_applied = 0, status = 'building',
         rebuild_requested_at = NULL, rebuilds = rebuilds + 1, updated_at = now()
       WHERE name = $1 AND version = $2`,
      [p.name, p.version],
    );
  },

  /**
   * Caught up: this version goes live and every other version of the same projection retires, in one statement
   * (versions are configuration hashes, not ordered). Returns the configurations of the versions it retired.
   */
  async goLive(tx: SqlExecutor, p: AsyncProjection): Promise<Array<Record<string, unknown> | null>> {
    const { rows } = await tx.query<{ version: number; config: Record<string, unknown> | null; was: string }>(
      `UPDATE projection_checkpoints c SET status = CASE WHEN c.version = $2 THEN 'live' ELSE 'retired' END,
         updated_at = now()
       FROM projection_checkpoints old
       WHERE old.name = c.name AND old.version = c.version AND c.name = $1
         AND (c.version = $2 OR c.status <> 'retired')
       RETURNING c.version, c.config, old.status AS was`,
      [p.name, p.version],
    );
    return rows.filter((r) => r.version !== p.version && r.was !== 'retired').map((r) => r.config);
  },

  /** Checkpoints made before configurations were recorded get this version's now (once, by its projector). */
  async recordConfig(on: SqlExecutor, p: AsyncProjection): Promise<void> {
    if (!p.config) return;
    await on.query(
      `UPDATE projection_checkpoints SET config = $3::jsonb WHERE name = $1 AND version = $2 AND config IS NULL`,
      [p.name, p.version, JSON.stringify(p.config)],
    );
  },

  /** The version of a projection that serves reads now, with the configuration it recorded. */
  async live(
    on: SqlExecutor,
    name: string,
  ): Promise<{ version: number; config: Record<string, unknown> | null } | undefined> {
    const { rows } = await on.query<{ version: number; config: Record<string, unknown> | null }>(
      `SELECT version, config FROM projection_checkpoints WHERE name = $1 AND status = 'live'
       ORDER BY updated_at DESC LIMIT 1`,
      [name],
    );
    return rows[0];
  },

  async requestRebuild(on: SqlExecutor, p: AsyncProjection): Promise<boolean> {
    const { rowCount } = await on.query(
      `UPDATE projection_checkpoints SET rebuild_requested_at = now() WHERE name = $1 AND version = $2`,
      [p.name, p.version],
    );
    return rowCount > 0;
  },
};
