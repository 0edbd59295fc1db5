/**
 * `tsx reliability/corpus-mutations.ts [--corpus ../shared/corpus] [--count 1000] [--seed 17] [--concurrency 3]
 * [--ocr] [--max-minutes 80] [--only i,j] [--out <dir>]`: the mutated-corpus run of issue 17 (RELIABILITY.md, "Hostile input").
 *
 * From the real PDF and DOCX files listed in the corpus's MANIFEST.tsv it generates `--count` mutated files (seeded):
 * byte flips, truncations, chunk duplication and zeroed ranges on any file; for a DOCX (a zip) also entry-level
 * mutations (a corrupt word/document.xml, billion laughs, XXE naming file:///etc/passwd, zip bombs — one giant
 * highly compressible entry, honest or lying about its size — and tens of thousands of entries); for a PDF also
 * incremental updates holding a Flate bomb, a page-tree loop, JavaScript actions and a huge object count. Each is
 * uploaded (multipart POST /documents, as an editor) to the built service (`bin/docsvc serve`, PGlite on
 * disk in a temp DATA_DIR), 3 at a time, while its resident memory is sampled every 250 ms.
 *
 * Properties (exit 1 when one fails): no 5xx, the service never exits, no upload slower than the extraction limit
 * plus a margin, no answer holding SQL or stack text, no /etc/passwd text in a stored document, and an innocent
 * upload afterwards still works, and every file was sent within `--max-minutes` (uploads stop being started then,
 * the figures of what was sent are still printed, and the run counts as failed). The maximum RSS is reported but not
 * a failure (the memory cap is separate work).
 *
 * OCR is off by default (OCR_MAX_PAGES=0): with it on, each mutated scan costs up to OCR_TIMEOUT_MS (180 s) and
 * 1,000 files do not fit the run's bound on 2 cores; `--ocr` keeps the service's default and widens the hang limit.
 * Zips are written by a minimal writer (corpus/zip.ts, node:zlib), since no zip writer is a dependency (jszip is only
 * mammoth's); zip bombs are built from full-flush deflate blocks repeated (corpus/deflate.ts), so a 1 GB entry costs
 * ~1 MB to make. Needs `npm run build` first.
 *
 * The parts, in reliability/corpus/: options.ts (the command line, the hang limit), random.ts (the seeded choice),
 * byte-mutations.ts, docx-mutations.ts, pdf-mutations.ts, mutants.ts (the corpus and the i-th mutant), service.ts
 * (start, upload), monitor.ts (RSS sampling, crashes, restarts), driver.ts (the workers, the innocent uploads),
 * tally.ts (the counts and property checks) and report.ts (the RESULT line and the verdict).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadAll, uploadInnocent } from './corpus/driver.js';
import { Monitor } from './corpus/monitor.js';
import { loadCorpus } from './corpus/mutants.js';
import { corpusDir, count, HANG_MS, ocr, outDir, seed } from './corpus/options.js';
import { report } from './corpus/report.js';
import { startService } from './corpus/service.js';
import { Tally } from './corpus/tally.js';

async function main(): Promise<void> {
  const sources = loadCorpus(corpusDir);
  if (sources.length === 0) throw new Error(`no PDF or DOCX in ${corpusDir}/MANIFEST.tsv`);
  if (outDir) mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-mutations-'));
  const svc = await startService(dataDir);
  console.error(
    `service at ${svc.base} (pid ${svc.child.pid}), DATA_DIR ${dataDir}; ${sources.length} source files, ${count} mutants, seed ${seed}, hang limit ${HANG_MS} ms, OCR ${ocr ? 'on' : 'off'}`,
  );
  const mon = new Monitor(svc, dataDir);
  const tally = new Tally();
  const progress = await uploadAll(sources, mon, tally);
  const innocent = await uploadInnocent(sources, mon);
  await mon.stop();
  rmSync(dataDir, { recursive: true, force: true });

  const { result, ok } = report(sources, progress, tally, mon, innocent);
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exitCode = ok ? 0 : 1;
}

await main();
