import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { z } from 'zod';
import { assertCoach, type Principal } from '../../domain/access.js';
import { restoreAction, type RestoreAction } from '../../domain/document/restore-plan.js';
import { AppError } from '../../domain/errors.js';
import { coachIdSchema, momentSchema } from '../../domain/schemas.js';
import { CurrentPrincipal, RequireRole } from '../../infrastructure/auth/auth.guard.js';
import {
  DOCUMENT_DIRECTORY,
  type DocumentDirectory,
} from '../../infrastructure/documents/document-directory.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { RetireDocumentCommand } from '../retire-document/retire-document.js';
import { RollBackDocumentCommand } from '../rollback-document/rollback-document.js';

export const restoreSchema = z
  .object({
    asOf: momentSchema,
    dryRun: z.boolean().default(false),
  })
  .strict();

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
  constructor(readonly restore: { principal: Principal; coachId: string; asOf: string; dryRun: boolean }) {
    super();
  }
}

/**
 * POST /coaches/:coachId/restore: the coach's corpus back to how it stood at `asOf`, by new events only, each
 * one a rollback or a retirement through its own command (restoreAction says which). History is never
 * rewritten, so a second run finds nothing to do.
 */
@CommandHandler(RestoreCoachCommand)
export class RestoreCoachHandler implements ICommandHandler<RestoreCoachCommand, RestoreReport> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(DOCUMENT_DIRECTORY) private readonly directory: DocumentDirectory,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  async execute({ restore }: RestoreCoachCommand): Promise<RestoreReport> {
    const { principal, coachId, asOf, dryRun } = restore;
    assertCoach(principal, coachId);
    const report: RestoreReport = {
      coachId,
      asOf,
      dryRun,
      changes: [],
      unchanged: 0,
      erased: [],
      failed: [],
    };
    for (const doc of await this.directory.thenAndNow(this.sql, coachId, asOf)) {
      const action = restoreAction(doc, asOf);
      if (doc.nowStatus === 'erased') report.erased.push(doc.documentId);
      else if (!action) report.unchanged++;
      else if (dryRun) report.changes.push(action);
      else {
        try {
          report.changes.push({ ...action, ...(await this.apply(principal, action)) });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          report.failed.push({ documentId: doc.documentId, code: error.code, detail: error.message });
        }
      }
    }
    return report;
  }

  private async apply(principal: Principal, a: RestoreAction) {
    const write = { principal, documentId: a.documentId, reason: a.reason, expectedVersion: a.fromVersion };
    const { version, position } = await this.commands.execute(
      a.action === 'rollback'
        ? new RollBackDocumentCommand({ ...write, toVersion: a.toVersion })
        : new RetireDocumentCommand(write),
    );
    return { version, position };
  }
}

/** The coach-level commands (admin). */
@Controller('coaches')
@RequireRole('admin')
export class CoachesController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post(':coachId/restore')
  @HttpCode(200)
  restore(
    @CurrentPrincipal() principal: Principal,
    @Param('coachId') coachId: string,
    @Body() body: unknown,
  ): Promise<RestoreReport> {
    parseWith(coachIdSchema, coachId, 'path.coachId');
    const { asOf, dryRun } = parseWith(restoreSchema, body, 'body');
    return this.commands.execute(new RestoreCoachCommand({ principal, coachId, asOf, dryRun }));
  }
}
