import { Controller, HttpCode, Inject, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Principal } from '../../domain/access.js';
import { CurrentPrincipal, RequireRole } from '../../infrastructure/auth/auth.guard.js';
import { IngestGate } from '../../infrastructure/http/ingest-gate.js';
import { ValidationFailedError } from '../../infrastructure/http/validation.js';
import { Metrics } from '../../infrastructure/metrics/metrics.js';
import { readCsv } from './csv-rows.js';
import { importRows, type ImportReport } from './import-csv.js';

/**
 * POST /imports/csv (API.md): a CSV file of documents. Its size is checked while it streams in (413
 * FILE_TOO_LARGE), the whole file is read and checked before anything is written, then its good rows are
 * uploaded in batches; bad rows are reported with their line.
 */
@Controller('imports')
@RequireRole('editor')
export class ImportsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  @Post('csv')
  @HttpCode(200)
  @UseInterceptors(IngestGate, FileInterceptor('file'))
  async csv(
    @CurrentPrincipal() principal: Principal,
    @UploadedFile() file: { buffer: Buffer } | undefined,
  ): Promise<ImportReport> {
    if (!file)
      throw new ValidationFailedError('a multipart "file" part (the CSV file) is required', {
        errors: [{ path: 'form.file', message: 'required' }],
      });
    const report = await importRows(this.commands, principal, await readCsv(file.buffer));
    this.record(report);
    return report;
  }

  private record(report: ImportReport): void {
    this.metrics.imported('csv', 'created', report.imported);
    this.metrics.imported('csv', 'duplicate', report.duplicates);
    for (const failure of report.failed) this.metrics.imported('csv', failure.code);
  }
}
