import { readFile, stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { ImportOutcome } from '../../commands/import-file/import-file.js';
import { CliFailure, EXIT } from '../cli-errors.js';
import {
  FileFailure,
  listFolder,
  mergeMetadata,
  metadataFromName,
  readSidecar,
  type FolderFile,
} from './folder-files.js';
import type { ImportTarget } from './import-target.js';
import type { Progress } from './progress.js';

export interface FolderImportOptions {
  root: string;
  coachId: string;
  /** Metadata from the command line (--type, --tier, --tags): the lowest layer. */
  flags: Record<string, unknown>;
  concurrency: number;
  maxFileBytes: number;
  dryRun: boolean;
  retireMissing: boolean;
  /** Aborted on Ctrl-C: no new file is started, the ones under way finish, the report says so. */
  signal?: AbortSignal;
}

export interface FolderImportReport {
  folder: string;
  target: string;
  files: number;
  created: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  /** Files whose document is retired: left as they are. */
  retired: number;
  failed: Array<{ path: string; code: string; detail: string }>;
  /** Documents retired because their file is no longer in the folder (or, with --dry-run, that would be). */
  retiredMissing: string[];
  dryRun: boolean;
  interrupted: boolean;
}

const COUNTERS: Record<ImportOutcome, 'created' | 'updated' | 'unchanged' | 'duplicates' | 'retired'> = {
  created: 'created',
  updated: 'updated',
  unchanged: 'unchanged',
  duplicate: 'duplicates',
  retired: 'retired',
};

/**
 * `docsvc import <dir>`: every file of the folder through the target, `concurrency` at a time. One file's failure
 * is reported with its path and code and the others go on; a run stopped half-way and started again finishes
 * the rest, since a file already imported is recognised as unchanged.
 */
export async function importFolder(
  target: ImportTarget,
  options: FolderImportOptions,
  progress: Progress,
): Promise<FolderImportReport> {
  const files = await folderFiles(options.root);
  const report: FolderImportReport = {
    folder: options.root,
    target: target.where,
    files: files.length,
    ...{ created: 0, updated: 0, unchanged: 0, duplicates: 0, retired: 0 },
    failed: [],
    retiredMissing: [],
    dryRun: options.dryRun,
    interrupted: false,
  };
  progress.start(files.length);
  const limit = pLimit(options.concurrency);
  // After Ctrl-C the files still queued start and return at once: only those under way are finished.
  const run = (file: FolderFile) =>
    options.signal?.aborted ? undefined : importOne(target, options, file, report, progress);
  try {
    await Promise.all(files.map((file) => limit(() => run(file))));
  } finally {
    progress.stop();
  }
  report.interrupted = options.signal?.aborted ?? false;
  report.failed.sort((a, b) => (a.path < b.path ? -1 : 1));
  if (options.retireMissing && !report.interrupted) await retireMissing(target, options, files, report);
  return report;
}

async function folderFiles(root: string): Promise<FolderFile[]> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliFailure(`${root} is not a folder`, EXIT.usage);
  return listFolder(root);
}

async function importOne(
  target: ImportTarget,
  options: FolderImportOptions,
  file: FolderFile,
  report: FolderImportReport,
  progress: Progress,
): Promise<void> {
  try {
    if (file.size > options.maxFileBytes)
      throw new FileFailure(
        'FILE_TOO_LARGE',
        `${file.size} bytes, over the limit of ${options.maxFileBytes}`,
      );
    const metadata = mergeMetadata([
      options.flags,
      metadataFromName(file.sourcePath),
      await readSidecar(file),
    ]);
    if (options.dryRun) return;
    const bytes = await readFile(file.absolutePath);
    const filename = file.sourcePath.slice(file.sourcePath.lastIndexOf('/') + 1);
    const result = await target.importFile({
      coachId: options.coachId,
      sourcePath: file.sourcePath,
      filename,
      bytes,
      metadata,
    });
    report[COUNTERS[result.outcome]]++;
  } catch (error) {
    if (!(error instanceof FileFailure)) throw error;
    report.failed.push({ path: file.sourcePath, code: error.code, detail: error.message });
    progress.log(`${file.sourcePath}: ${error.code}: ${error.message}`);
  } finally {
    progress.tick();
  }
}

/** The coach's documents whose path is no longer a file of the folder: retired (history kept). */
async function retireMissing(
  target: ImportTarget,
  options: FolderImportOptions,
  files: readonly FolderFile[],
  report: FolderImportReport,
): Promise<void> {
  const present = new Set(files.map((f) => f.sourcePath));
  const missing = (await target.activePaths(options.coachId)).filter((e) => !present.has(e.sourcePath));
  for (const entry of missing) {
    if (!options.dryRun)
      await target.retire(entry.documentId, `${entry.sourcePath} is no longer in the imported folder`);
    report.retiredMissing.push(entry.sourcePath);
  }
  report.retiredMissing.sort();
}
