import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { ACCESS_TIERS, DOCUMENT_TYPES, type DocumentMetadata } from '../../domain/document/document.js';
import { coachIdSchema, tagSchema } from '../../domain/schemas.js';
import { CliFailure, EXIT, usageOrFailure } from '../cli-errors.js';
import type { CliOutput } from '../output.js';
import { progressOnStderr, silentProgress } from './progress.js';

export interface FolderImportFlags {
  coach: string;
  tier?: string;
  type?: string;
  tags?: string;
  concurrency: string;
  dryRun?: boolean;
  retireMissing?: boolean;
  json?: boolean;
  url?: string;
}

/** `import <dir>` and `import-csv <file>`: on the configured database, or with --url on a running service. */
export function addImportCommands(program: Command, out: CliOutput): void {
  addFolderCommand(program, out);
  addCsvCommand(program, out);
  addUrlCommand(program, out);
}

/** `import-url <url>`: a web page or file as a document, fetched again on the service's refresh schedule. */
function addUrlCommand(program: Command, out: CliOutput): void {
  program
    .command('import-url')
    .description(
      "import a web page's article (or a PDF, DOCX or text file) from a URL; the service refreshes it",
    )
    .argument('<url>', 'an http or https URL')
    .requiredOption('--coach <coachId>', 'the coach whose library it joins')
    .requiredOption('--tier <tier>', 'access tier: free or premium')
    .requiredOption('--type <documentType>', `document type: ${DOCUMENT_TYPES.join(', ')}`)
    .option('--tags <tags>', 'tags, separated by commas')
    .option('--refresh-days <n>', 'days between refreshes (1-3650)', '30')
    .option('--url <url>', 'a running service to import into (default: DOCSVC_URL; key from DOCSVC_API_KEY)')
    .option('--json', 'print the result as JSON')
    .action(async (sourceUrl: string, flags: FolderImportFlags & { refreshDays: string }) => {
      const metadata = metadataFlags(flags);
      const days = Number(flags.refreshDays);
      if (!Number.isInteger(days) || days < 1 || days > 3650)
        throw usage('--refresh-days must be a whole number from 1 to 3650');
      if (!/^https?:\/\//i.test(sourceUrl)) throw usage(`${sourceUrl} is not an http or https URL`);
      const { runUrlImport, describeUrlImport } = await import('./run-import-url.js');
      const request = {
        coachId: flags.coach,
        url: sourceUrl,
        metadata: { tags: [], ...metadata } as DocumentMetadata,
        refreshIntervalDays: days,
      };
      const result = await runUrlImport(request, flags.url ?? process.env.DOCSVC_URL).catch(usageOrFailure);
      out.result(describeUrlImport(result), result);
    });
}

function addFolderCommand(program: Command, out: CliOutput): void {
  program
    .command('import')
    .description(
      "import a folder of documents for a coach: new files become documents, changed files new versions (keyed by the file's path in the folder), unchanged files nothing",
    )
    .argument('<dir>', 'the folder (searched recursively; hidden files and *.meta.json sidecars are skipped)')
    .requiredOption('--coach <coachId>', 'the coach whose library the files join')
    .option('--tier <tier>', 'access tier of the documents: free or premium')
    .option('--type <documentType>', `document type: ${DOCUMENT_TYPES.join(', ')}`)
    .option('--tags <tags>', 'tags, separated by commas')
    .option('--concurrency <n>', 'files imported at once', String(availableParallelism()))
    .option(
      '--dry-run',
      'check every file and its metadata, and say what --retire-missing would retire; write nothing',
    )
    .option('--retire-missing', "retire the coach's imported documents whose file is no longer in the folder")
    .option('--url <url>', 'a running service to import into (default: DOCSVC_URL; key from DOCSVC_API_KEY)')
    .option('--json', 'print the report as one JSON document')
    .addHelpText(
      'after',
      '\nMetadata: the flags, then the file name when it reads "YYYY-MM-DD - Author - Title.ext" (or "YYYY-MM-DD - Title.ext"),\nthen a sidecar "<file>.meta.json" (a JSON object of metadata fields); later ones win.\nExit code 0 only when no file failed; 130 when stopped by Ctrl-C (run it again to finish).',
    )
    .action(async (dir: string, flags: FolderImportFlags) => {
      const options = folderOptions(dir, flags);
      const { runFolderImport, describeReport } = await import('./run-import.js');
      const abort = new AbortController();
      const onSigint = () => (abort.signal.aborted ? process.exit(EXIT.interrupted) : abort.abort());
      process.on('SIGINT', onSigint);
      try {
        const progress = flags.json ? silentProgress : progressOnStderr();
        const report = await runFolderImport(options, flags.url ?? process.env.DOCSVC_URL, progress, {
          signal: abort.signal,
        }).catch(usageOrFailure);
        const exit = report.interrupted ? EXIT.interrupted : report.failed.length > 0 ? EXIT.failed : EXIT.ok;
        out.result(describeReport(report), report, exit);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/** `import-csv <file>`: the columns of POST /imports/csv; exit code 1 when a row failed. */
function addCsvCommand(program: Command, out: CliOutput): void {
  program
    .command('import-csv')
    .description(
      'import a CSV file of documents (columns coach_id,title,content,document_type,access_tier,tags,author,publication_date)',
    )
    .argument('<file>', 'the CSV file (UTF-8, a header line, quoted fields may hold newlines)')
    .option('--url <url>', 'a running service to import into (default: DOCSVC_URL; key from DOCSVC_API_KEY)')
    .option('--json', 'print the report as one JSON document')
    .addHelpText(
      'after',
      '\nEvery row is checked; good rows are imported, bad ones listed with their line and code.\nA row whose text the coach already has is a duplicate: importing the file again adds nothing.\nExit code 0 only when no row failed.',
    )
    .action(async (file: string, flags: { url?: string }) => {
      const { runCsvImport, describeCsvReport } = await import('./run-import-csv.js');
      const report = await runCsvImport(file, flags.url ?? process.env.DOCSVC_URL).catch(usageOrFailure);
      out.result(describeCsvReport(report), report, report.failed.length > 0 ? EXIT.failed : EXIT.ok);
    });
}

/** --coach, --tier, --type and --tags checked (a usage error names the flag), as the metadata they give. */
function metadataFlags(flags: Pick<FolderImportFlags, 'coach' | 'tier' | 'type' | 'tags'>) {
  if (!coachIdSchema.safeParse(flags.coach).success)
    throw usage(`--coach: "${flags.coach}" is not a coach id`);
  if (flags.tier !== undefined && !(ACCESS_TIERS as readonly string[]).includes(flags.tier))
    throw usage(`--tier must be one of ${ACCESS_TIERS.join(', ')}`);
  if (flags.type !== undefined && !(DOCUMENT_TYPES as readonly string[]).includes(flags.type))
    throw usage(`--type must be one of ${DOCUMENT_TYPES.join(', ')}`);
  const tags = flags.tags
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const badTag = tags?.find((t) => !tagSchema.safeParse(t).success);
  if (badTag !== undefined)
    throw usage(`--tags: "${badTag}" is not a tag (letters, digits, spaces and _ . + -)`);
  return {
    ...(flags.tier ? { accessTier: flags.tier } : {}),
    ...(flags.type ? { documentType: flags.type } : {}),
    ...(tags ? { tags } : {}),
  };
}

function folderOptions(root: string, flags: FolderImportFlags) {
  const metadata = metadataFlags(flags);
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw usage('--concurrency must be a whole number from 1 to 64');
  return {
    root,
    coachId: flags.coach,
    flags: metadata,
    concurrency,
    dryRun: flags.dryRun ?? false,
    retireMissing: flags.retireMissing ?? false,
  };
}

const usage = (message: string) => new CliFailure(message, EXIT.usage);
