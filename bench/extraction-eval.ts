/**
 * Text extraction over a corpus: every file through the WorkerTextExtractor with the default limits, one at a
 * time. Per file: size, outcome (extracted, rejected with a code, crashed, hung) and time; then totals and the
 * process's peak RSS (worker threads included). Crashed = an error that is not an ExtractionError, or
 * EXTRACTION_FAILED; hung = EXTRACTION_TIMEOUT. Exits 1 when anything crashed or hung.
 * Run: npx tsx bench/extraction-eval.ts <corpusDir>
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { ExtractionError } from '../src/infrastructure/extraction/extraction.js';
import { WorkerTextExtractor } from '../src/infrastructure/extraction/worker-extractor.js';

type Outcome =
  | { kind: 'extracted'; chars: number; pages?: number }
  | { kind: 'rejected' | 'crashed' | 'hung'; code: string };

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name !== 'MANIFEST.tsv')
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function run(extractor: WorkerTextExtractor, path: string): Promise<Outcome> {
  try {
    const extracted = await extractor.extract(await readFile(path), { filename: basename(path) });
    return { kind: 'extracted', chars: extracted.text.length, pages: extracted.pageCount };
  } catch (error) {
    if (!(error instanceof ExtractionError)) {
      return {
        kind: 'crashed',
        code: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    if (error.code === 'EXTRACTION_TIMEOUT') return { kind: 'hung', code: error.code };
    if (error.code === 'EXTRACTION_FAILED')
      return { kind: 'crashed', code: `${error.code} ${JSON.stringify(error.details)}` };
    return { kind: 'rejected', code: error.code };
  }
}

function describe(outcome: Outcome): string {
  if (outcome.kind !== 'extracted') return `${outcome.kind} ${outcome.code}`;
  return `extracted ${outcome.chars} chars${outcome.pages !== undefined ? `, ${outcome.pages} pages` : ''}`;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npx tsx bench/extraction-eval.ts <corpusDir>');
    process.exit(2);
  }
  const extractor = new WorkerTextExtractor();
  const totals = { extracted: 0, rejected: 0, crashed: 0, hung: 0 };
  const byCode = new Map<string, number>();
  const paths = await files(dir);
  const width = Math.max(...paths.map((p) => relative(dir, p).length));
  console.log(`${'file'.padEnd(width)}  ${'bytes'.padStart(9)}  ${'ms'.padStart(6)}  outcome`);
  for (const path of paths) {
    const size = (await readFile(path)).byteLength;
    const started = performance.now();
    const outcome = await run(extractor, path);
    const ms = Math.round(performance.now() - started);
    totals[outcome.kind]++;
    if (outcome.kind === 'rejected') byCode.set(outcome.code, (byCode.get(outcome.code) ?? 0) + 1);
    console.log(
      `${relative(dir, path).padEnd(width)}  ${String(size).padStart(9)}  ${String(ms).padStart(6)}  ${describe(outcome)}`,
    );
  }
  const codes = [...byCode].map(([code, n]) => `${code} ${n}`).join(', ');
  console.log(
    `\nfiles: ${paths.length}; extracted: ${totals.extracted}; rejected: ${totals.rejected}${codes ? ` (${codes})` : ''}`,
  );
  console.log(`crashed: ${totals.crashed}; hung: ${totals.hung}`);
  // maxRSS is in kilobytes and covers the whole process, worker threads included.
  console.log(`peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  if (totals.crashed + totals.hung > 0) process.exitCode = 1;
}

await main();
