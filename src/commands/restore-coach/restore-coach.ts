import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { CurrentPrincipal, RequireRole } from '../../infrastructure/auth/auth.guard.js';
import { assertCoach, type Principal } from '../../domain/access.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { coachIdSchema, momentSchema } from '../../domain/schemas.js';
import { RetireDocumentCommand } from '../retire-document/retire-document.js';
import { RollBackDocumentCommand } from '../rollback-document/rollback-document.js';

export const restoreSchema = z
  .object({
    asOf: momentSchema,
    dryRun: z.boolean().default(false),
  })
  .strict();

export type RestoreAction =
  | { documentId: string; action: 'rollback'; fromVersion: number; toVersion: number; reason: string }
  | { documentId: string; action: 'retire'; fromVersion: number; reason: string };

export interface RestoreReport {
  coachId: string;
  asOf: string;
  dryRun: boolean;
  /** What changes (dry run: would change), one new event each. */
  changes: Array<RestoreAction & { version?: number; position?: string }>;
  /** Documents already as they were at `asOf`. */
  unchanged: number;
  /** Erased documents: erased content stays erased, whatever `asOf` says. */
  erased: string[];
  /** Changes that could not be made (e.g. the document changed meanwhile: VERSION_CONFLICT). */
  failed: Array<{ documentId: string; code: string; detail: string }>;
}

export class RestoreCoachCommand extends Command<RestoreReport> {
  constructor(
    readonly principal: Principal,
    readonly coachId: string,
    readonly body: unknown,
  ) {
    super();
  }
}

interface PlanRow {
  document_id: string;
  now_status: 'active' | 'retired' | 'erased';
  now_version: number;
  then_version: number | null;
  then_status: 'active' | 'retired' | null;
  same: boolean | null;
}

/**
 * POST /coaches/:coachId/restore: the coach's corpus back to how it stood at `asOf`, by new events only — a
 * document changed since is rolled back to its version of then, one created since is retired, one retired since
 * is brought back (rolled back to its version of then). History is never rewritten, so a second run finds
 * nothing to do.
 */
@CommandHandler(RestoreCoachCommand)
export class RestoreCoachHandler implements ICommandHandler<RestoreCoachCommand, RestoreReport> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  async execute({ principal, coachId, body }: RestoreCoachCommand): Promise<RestoreReport> {
    parseWith(coachIdSchema, coachId, 'path.coachId');
    const { asOf, dryRun } = parseWith(restoreSchema, body, 'body');
    assertCoach(principal, coachId);
    const rows = await this.plan(coachId, asOf);
    const report: RestoreReport = {
      coachId,
      asOf,
      dryRun,
      changes: [],
      unchanged: 0,
      erased: [],
      failed: [],
    };
    for (const row of rows) {
      const action = decide(row, asOf);
      if (row.now_status === 'erased') report.erased.push(row.document_id);
      else if (!action) report.unchanged++;
      else if (dryRun) report.changes.push(action);
      else {
        try {
          report.changes.push({ ...action, ...(await this.apply(principal, action)) });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          report.failed.push({ documentId: row.document_id, code: error.code, detail: error.message });
        }
      }
    }
    return report;
  }

  private async apply(principal: Principal, a: RestoreAction) {
    const request = {
      principal,
      documentId: a.documentId,
      body: {
        ...(a.action === 'rollback' ? { toVersion: a.toVersion } : {}),
        reason: a.reason,
        expectedVersion: a.fromVersion,
      },
    };
    const { version, position } = await this.commands.execute(
      a.action === 'rollback' ? new RollBackDocumentCommand(request) : new RetireDocumentCommand(request),
    );
    return { version, position };
  }

  /** Each document of the coach: now, and the last version written at or before `asOf` (if any). */
  private async plan(coachId: string, asOf: string): Promise<PlanRow[]> {
    const { rows } = await this.sql.query<PlanRow>(
      `WITH then_ AS (
         SELECT DISTINCT ON (v.document_id) v.document_id, v.version, v.status, v.title, v.content, v.metadata,
                v.file_sha256
         FROM document_versions v JOIN documents d USING (document_id)
         WHERE d.coach_id = $1 AND v.at <= $2::timestamptz
         ORDER BY v.document_id, v.version DESC)
       SELECT d.document_id::text, d.status AS now_status, d.version AS now_version, t.version AS then_version,
              t.status AS then_status,
              (t.title IS NOT DISTINCT FROM c.title AND t.content IS NOT DISTINCT FROM c.content
               AND t.metadata IS NOT DISTINCT FROM c.metadata AND t.file_sha256 IS NOT DISTINCT FROM c.file_sha256) AS same
       FROM documents d
       LEFT JOIN then_ t USING (document_id)
       LEFT JOIN document_versions c ON c.document_id = d.document_id AND c.version = d.version
       WHERE d.coach_id = $1
       ORDER BY d.document_id`,
      [coachId, asOf],
    );
    return rows;
  }
}

/** What brings one document back to how it was at `asOf`; undefined when it already is. */
export function decide(row: PlanRow, asOf: string): RestoreAction | undefined {
  const base = { documentId: row.document_id, fromVersion: row.now_version };
  if (row.now_status === 'erased') return undefined;
  if (row.then_status !== 'active') {
    // Not there yet at asOf, or retired then: it must not be in the corpus now.
    if (row.now_status !== 'active') return undefined;
    const why = row.then_status === null ? 'created after' : 'retired at';
    return { ...base, action: 'retire', reason: `restore to ${asOf}: ${why} that moment` };
  }
  if (row.now_status === 'active' && row.same) return undefined;
  return {
    ...base,
    action: 'rollback',
    toVersion: row.then_version!,
    reason: `restore to ${asOf}: version ${row.then_version} was current then`,
  };
}

/** The coach-level commands (admin). */
@Controller('coaches')
@RequireRole('admin')
export class CoachesController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post(':coachId/restore')
  @HttpCode(200)
  restore(
    @CurrentPrincipal() p: Principal,
    @Param('coachId') coachId: string,
    @Body() body: unknown,
  ): Promise<RestoreReport> {
    return this.commands.execute(new RestoreCoachCommand(p, coachId, body));
  }
}
