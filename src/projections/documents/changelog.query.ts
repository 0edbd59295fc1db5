import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { z } from 'zod';
import { assertCoach, canSeeTier, type Principal } from '../../domain/access.js';
import { positionSchema } from '../../domain/schemas.js';
import { READ_MODEL_HORIZON, type SettledCondition } from '../../infrastructure/event-store/horizon.js';
import { parsePosition } from '../../infrastructure/event-store/position.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';

export const CHANGE_TYPES = [
  'uploaded',
  'edited',
  'file_replaced',
  'rolled_back',
  'retired',
  'erased',
] as const;

export const changelogParamsSchema = z
  .object({
    coachId: z.string().min(1).max(64).optional(),
    documentId: z.uuid().optional(),
    types: z
      .string()
      .max(200)
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(z.array(z.enum(CHANGE_TYPES)).min(1))
      .optional()
      .describe(`comma-separated: ${CHANGE_TYPES.join(', ')}`),
    after: positionSchema.optional().describe('a position (exclusive): an earlier answer\'s "next"'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type ChangelogParams = z.output<typeof changelogParamsSchema>;

export interface ChangelogEntry {
  position: string;
  documentId: string;
  coachId: string;
  version: number;
  type: (typeof CHANGE_TYPES)[number];
  actor: string;
  at: string;
  summary: string;
}

export interface ChangelogPage {
  entries: ChangelogEntry[];
  /** The last entry's position, to pass as `after` for what follows; null when the page is empty. */
  next: string | null;
}

export class GetChangelogQuery extends Query<ChangelogPage> {
  constructor(
    readonly principal: Principal,
    readonly params: ChangelogParams,
  ) {
    super();
  }
}

/**
 * GET /changelog: every change to the documents a key may see, in the global order. Like the projector, it shows
 * only changes of transactions older than every running one, so that a reader following `next` never passes a
 * change that commits late.
 */
@QueryHandler(GetChangelogQuery)
export class GetChangelogHandler implements IQueryHandler<GetChangelogQuery, ChangelogPage> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(READ_MODEL_HORIZON) private readonly settled: SettledCondition,
  ) {}

  execute({ principal, params }: GetChangelogQuery): Promise<ChangelogPage> {
    return readChangelog(this.sql, this.settled, principal, params);
  }
}

export async function readChangelog(
  sql: SqlClient,
  settled: SettledCondition,
  principal: Principal,
  f: ChangelogParams,
): Promise<ChangelogPage> {
  if (f.coachId) assertCoach(principal, f.coachId);
  const coaches = f.coachId ? [f.coachId] : principal.coaches === '*' ? null : [...principal.coaches];
  const after = f.after ? parsePosition(f.after) : { tx: 0n, seq: 0n };
  // A free reader sees a version only when both the document and that version are free; an erased version's
  // tier is gone with its content and counts as premium (fail closed), the erasure itself carries the tier.
  const freeOnly = !canSeeTier(principal, 'premium');
  const { rows } = await sql.query<{
    position: string;
    document_id: string;
    coach_id: string;
    version: number;
    change: ChangelogEntry['type'];
    actor: string;
    at: Date;
    change_summary: string | null;
    rolled_back_to: number | null;
  }>(
    `SELECT v.position, v.document_id::text, d.coach_id, v.version, v.change, v.actor, v.at, v.change_summary,
            v.rolled_back_to
     FROM document_versions v JOIN documents d USING (document_id)
     WHERE (v.position_tx, v.position_seq) > ($1::bigint, $2::bigint)
       AND ${settled('v.position_tx', 'bigint')}
       AND ($3::text[] IS NULL OR d.coach_id = ANY ($3::text[]))
       AND ($4::uuid IS NULL OR v.document_id = $4::uuid)
       AND ($5::text[] IS NULL OR v.change = ANY ($5::text[]))
       AND (NOT $6::boolean OR (d.access_tier = 'free'
            AND coalesce(v.metadata->>'accessTier', CASE WHEN v.change = 'erased' THEN 'free' ELSE 'premium' END) = 'free'))
     ORDER BY v.position_tx, v.position_seq LIMIT $7`,
    [String(after.tx), String(after.seq), coaches, f.documentId ?? null, f.types ?? null, freeOnly, f.limit],
  );
  const entries = rows.map((r) => ({
    position: r.position,
    documentId: r.document_id,
    coachId: r.coach_id,
    version: r.version,
    type: r.change,
    actor: r.actor,
    at: r.at.toISOString(),
    summary: r.change_summary ?? describe(r.change, r.rolled_back_to),
  }));
  return { entries, next: entries.length > 0 ? entries[entries.length - 1]!.position : null };
}

function describe(change: ChangelogEntry['type'], toVersion: number | null): string {
  switch (change) {
    case 'uploaded':
      return 'uploaded';
    case 'edited':
      return 'edited';
    case 'file_replaced':
      return 'file replaced';
    case 'rolled_back':
      return toVersion ? `rolled back to version ${toVersion}` : 'rolled back';
    case 'retired':
      return 'retired';
    case 'erased':
      return 'erased';
  }
}
