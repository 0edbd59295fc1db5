import { readFile, stat } from 'node:fs/promises';
import type { ImportReport } from '../../commands/import-csv/import-csv.js';
import { loadConfig, type AppConfig } from '../../infrastructure/config/config.js';
import type { SqlClient } from '../../infrastructure/sql/sql-client.js';
import { CliFailure, EXIT } from '../cli-errors.js';
import { HttpTarget } from './http-target.js';

export type CsvImportReport = Omit<ImportReport, 'documents'> & { file: string; target: string };

/**
 * `docsvc import-csv <file>`: the file POST /imports/csv takes, sent to a running service (a URL) or imported on
 * the configured database by the same code. Too large a file is refused before it is read.
 */
export async function runCsvImport(
  file: string,
  url: string | undefined,
  context: { db?: SqlClient; config?: AppConfig } = {},
): Promise<CsvImportReport> {
  const { db, config = loadConfig() } = context;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliFailure(`${file} is not a file`, EXIT.usage);
  if (info.size > config.MAX_UPLOAD_BYTES)
    throw new CliFailure(
      `FILE_TOO_LARGE: ${file} is ${info.size} bytes, over the limit of ${config.MAX_UPLOAD_BYTES} (MAX_UPLOAD_BYTES); split it`,
      EXIT.failed,
      'FILE_TOO_LARGE',
    );
  const bytes = await readFile(file);
  if (url) {
    const target = new HttpTarget({ url, apiKey: process.env.DOCSVC_API_KEY });
    const report = await target.importCsv(bytes, file.slice(file.lastIndexOf('/') + 1));
    return summary(report, file, target.where);
  }
  // One after the other: jest's ESM loader can fail on concurrent imports that share modules.
  const { CommandBus } = await import('@nestjs/cqrs');
  const { cliPrincipal, withContext } = await import('../app-context.js');
  const { readCsv } = await import('../../commands/import-csv/csv-rows.js');
  const { importRows } = await import('../../commands/import-csv/import-csv.js');
  const report = await withContext(config, { projectors: false, db }, async (get) =>
    importRows(get(CommandBus), cliPrincipal(), await readCsv(bytes)),
  );
  return summary(report, file, 'the configured database');
}

/** The per-row documents stay out of the CLI's report: counts, failures and the position to search from. */
const summary = ({ imported, duplicates, failed, position }: ImportReport, file: string, target: string) => ({
  file,
  target,
  imported,
  duplicates,
  failed,
  position,
});

export function describeCsvReport(r: CsvImportReport): string {
  const lines = [
    `imported ${r.file} into ${r.target}: ${r.imported} new, ${r.duplicates} duplicate(s), ${r.failed.length} failed${r.failed.length ? ':' : ''}`,
    ...r.failed.map((f) => `  line ${f.line}: ${f.code}: ${f.detail}`),
  ];
  return lines.join('\n');
}
