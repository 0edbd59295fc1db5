import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ImportFileCommand, type ImportFileResult } from '../../commands/import-file/import-file.js';
import { RetireDocumentCommand } from '../../commands/retire-document/retire-document.js';
import { AppError } from '../../domain/errors.js';
import { ListDocumentsQuery, type DocumentPage } from '../../projections/documents/document-queries.js';
import { cliPrincipal } from '../app-context.js';
import { FileFailure } from './folder-files.js';
import type { FileImport, ImportTarget, PathEntry } from './import-target.js';

/** The configured database, through this process's command and query buses (as the service would run them). */
export class LocalTarget implements ImportTarget {
  readonly where = 'the configured database';
  private readonly principal = cliPrincipal();

  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  async importFile(file: FileImport): Promise<ImportFileResult> {
    const { coachId, sourcePath, filename, bytes, metadata } = file;
    return refusedAsFailure(() =>
      this.commands.execute(
        new ImportFileCommand({
          principal: this.principal,
          coachId,
          sourcePath,
          file: { bytes, filename },
          metadata,
        }),
      ),
    );
  }

  async activePaths(coachId: string): Promise<PathEntry[]> {
    const entries: PathEntry[] = [];
    let cursor: string | undefined;
    do {
      const filters = { coachId, status: 'active' as const, limit: 100, ...(cursor ? { cursor } : {}) };
      const page: DocumentPage = await this.queries.execute(new ListDocumentsQuery(this.principal, filters));
      for (const item of page.items)
        if (item.sourcePath) entries.push({ documentId: item.documentId, sourcePath: item.sourcePath });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return entries;
  }

  async retire(documentId: string, reason: string): Promise<void> {
    await refusedAsFailure(() =>
      this.commands.execute(new RetireDocumentCommand({ principal: this.principal, documentId, reason })),
    );
  }
}

async function refusedAsFailure<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AppError) throw new FileFailure(error.code, error.message);
    throw error;
  }
}
