import { loadConfig, type AppConfig } from '../../infrastructure/config/config.js';
import { HttpTarget } from './http-target.js';
import { importFolder, type FolderImportOptions, type FolderImportReport } from './import-folder.js';
import type { Progress } from './progress.js';
import type { SqlClient } from '../../infrastructure/sql/sql-client.js';

/**
 * A folder import against a running service (a URL) or on the configured database. The upload limit is the
 * configured one (MAX_UPLOAD_BYTES): a larger file is refused before it is read.
 */
export async function runFolderImport(
  options: Omit<FolderImportOptions, 'maxFileBytes' | 'signal'>,
  url: string | undefined,
  progress: Progress,
  context: { signal?: AbortSignal; db?: SqlClient; config?: AppConfig } = {},
): Promise<FolderImportReport> {
  const { signal, db, config = loadConfig() } = context;
  const full = { ...options, maxFileBytes: config.MAX_UPLOAD_BYTES, signal };
  if (url) return importFolder(new HttpTarget({ url, apiKey: process.env.DOCSVC_API_KEY }), full, progress);
  // The service's module graph is loaded only when it is used: over HTTP the CLI starts in a fraction of the time.
  // One after the other: jest's ESM loader can fail on concurrent imports that share modules.
  const { CommandBus, QueryBus } = await import('@nestjs/cqrs');
  const { withContext } = await import('../app-context.js');
  const { LocalTarget } = await import('./local-target.js');
  return withContext(config, { projectors: false, db }, (get) =>
    importFolder(new LocalTarget(get(CommandBus), get(QueryBus)), full, progress),
  );
}

export function describeReport(r: FolderImportReport): string {
  const verb = r.dryRun ? 'checked' : 'imported';
  const lines = [
    `${verb} ${r.folder} into ${r.target}: ${r.files} file(s)` +
      (r.interrupted ? ' (interrupted: run it again to finish)' : ''),
  ];
  if (!r.dryRun)
    lines.push(
      `  ${r.created} new, ${r.updated} new version(s), ${r.unchanged} unchanged, ${r.duplicates} duplicate(s), ${r.retired} retired (left as they are)`,
    );
  lines.push(`  ${r.failed.length} failed${r.failed.length ? ':' : ''}`);
  for (const f of r.failed) lines.push(`    ${f.path}: ${f.code}: ${f.detail}`);
  if (r.retiredMissing.length)
    lines.push(
      `  ${r.dryRun ? 'would retire' : 'retired'} ${r.retiredMissing.length} document(s) no longer in the folder:`,
      ...r.retiredMissing.map((p) => `    ${p}`),
    );
  return lines.join('\n');
}
