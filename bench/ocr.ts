/**
 * OCR of scanned PDF pages on the real files of a corpus (`<corpus>/pdf`), against a ground truth written by a
 * person: bench/ocr-words.tsv gives, for a page of each file, 1–3 words the rendered page visibly shows (chosen by
 * looking at the picture, never from OCR output; a page that shows no words has none).
 *
 * 1. Every PDF with OCR off (`ocrMaxPages: 0`): pages without a text layer (fewer than SCANNED_PAGE_CHARS
 *    non-space characters, or the whole file NO_EXTRACTABLE_TEXT) are its scanned pages; refusals
 *    (ENCRYPTED_PDF, CORRUPT_FILE, …) are listed by code. The time of this pass is the file's time without OCR.
 * 2. Every file with scanned pages through `extractInProcess` with OCR on (the default limits), timed: pages,
 *    scanned pages, pages OCR'd (text read) and skipped (limits), and whether each ground-truth word is in the
 *    text of its page (case-insensitive, whole word).
 * 3. The same files uploaded to the BUILT service (`node dist/src/main.js serve`, PGlite in a temp DATA_DIR,
 *    ADMIN_API_KEY), then `POST /search` (mode text, minPosition of the upload) for each word: is the file found?
 *
 * Prints a markdown table and one JSON line. Needs the build (`npm run bench:ocr` runs `npm run build` first).
 * Run: npm run bench:ocr -- [--corpus ../shared/corpus] [--words bench/ocr-words.tsv] [--no-service]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractInProcess } from '../src/infrastructure/extraction/extract.js';
import {
  DEFAULT_EXTRACTION_LIMITS,
  ExtractionError,
  type Extracted,
} from '../src/infrastructure/extraction/extraction.js';
import { SCANNED_PAGE_CHARS } from '../src/infrastructure/extraction/ocr.js';
import { arg, fmt, listeningPort } from './support.js';

const corpus = arg('corpus', '../shared/corpus');
const wordsFile = arg('words', 'bench/ocr-words.tsv');
const withService = !process.argv.includes('--no-service');
const KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
const COACH = 'bench-ocr';

interface Truth {
  file: string;
  page: number;
  words: string[];
  note: string;
}

interface Survey {
  file: string;
  bytes: number;
  pages?: number;
  scanned: number[];
  /** The refusal's code with OCR off (NO_EXTRACTABLE_TEXT included). */
  code?: string;
  offSeconds: number;
}

interface PageCheck {
  page: number;
  words: Record<string, boolean>;
  /** Characters of the page's text with OCR on. */
  chars: number;
}

interface OcrRun {
  file: string;
  pages?: number;
  scanned: number;
  ocrPages: number[];
  skippedPages: number[];
  seconds: number;
  offSeconds: number;
  chars: number;
  code?: string;
  checks: PageCheck[];
}

interface ServiceRun {
  file: string;
  status: number;
  code?: string;
  seconds: number;
  ocrPages?: unknown;
  /** Word → found the file (any of its chunks) / found on the ground-truth page. */
  search: Record<string, { found: boolean; onPage: boolean; status: number }>;
}

function readTruth(path: string): Truth[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [file = '', page = '', words = '', note = ''] = line.split('\t');
      return { file, page: Number(page), words: words.split(/\s+/).filter(Boolean), note };
    });
}

const codeOf = (error: unknown) =>
  error instanceof ExtractionError ? error.code : error instanceof Error ? error.name : 'ERROR';

/** A word on its own (letters and digits around it do not count), any case, Unicode-normalised. */
function hasWord(text: string, word: string): boolean {
  const escaped = word.normalize('NFC').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text.normalize('NFC'));
}

function pageText(extracted: Extracted, page: number): string {
  const range = extracted.pages?.find((p) => p.page === page);
  return range ? extracted.text.slice(range.startChar, range.endChar) : '';
}

/** pdf.js detaches the buffer it is given: every call gets its own copy. */
const bytesOf = (file: string) => new Uint8Array(readFileSync(join(corpus, 'pdf', file)));

async function survey(file: string): Promise<Survey> {
  const bytes = bytesOf(file);
  const started = performance.now();
  try {
    const extracted = await extractInProcess(bytes, {}, { ...DEFAULT_EXTRACTION_LIMITS, ocrMaxPages: 0 });
    const scanned = (extracted.pages ?? [])
      .filter((p) => pageText(extracted, p.page).replace(/\s/g, '').length < SCANNED_PAGE_CHARS)
      .map((p) => p.page);
    return {
      file,
      bytes: bytes.byteLength,
      pages: extracted.pageCount,
      scanned,
      offSeconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    const code = codeOf(error);
    const pages = error instanceof ExtractionError ? (error.details?.pages as number | undefined) : undefined;
    return {
      file,
      bytes: bytes.byteLength,
      pages,
      // No text anywhere: every page is a scan (a PDF without pages has none).
      scanned: code === 'NO_EXTRACTABLE_TEXT' && pages ? Array.from({ length: pages }, (_, i) => i + 1) : [],
      code,
      offSeconds: (performance.now() - started) / 1000,
    };
  }
}

async function ocrRun(s: Survey, truths: Truth[]): Promise<OcrRun> {
  const started = performance.now();
  const base = { file: s.file, pages: s.pages, scanned: s.scanned.length, offSeconds: s.offSeconds };
  try {
    const extracted = await extractInProcess(bytesOf(s.file), {}, DEFAULT_EXTRACTION_LIMITS);
    const seconds = (performance.now() - started) / 1000;
    return {
      ...base,
      ocrPages: extracted.ocr?.pages ?? [],
      skippedPages: extracted.ocr?.skippedPages ?? [],
      seconds,
      chars: extracted.text.length,
      checks: truths.map((t) => {
        const text = pageText(extracted, t.page);
        return {
          page: t.page,
          chars: text.length,
          words: Object.fromEntries(t.words.map((w) => [w, hasWord(text, w)])),
        };
      }),
    };
  } catch (error) {
    return {
      ...base,
      ocrPages: [],
      skippedPages: [],
      seconds: (performance.now() - started) / 1000,
      chars: 0,
      code: codeOf(error),
      checks: truths.map((t) => ({
        page: t.page,
        chars: 0,
        words: Object.fromEntries(t.words.map((w) => [w, false])),
      })),
    };
  }
}

function kb(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  } catch {
    return 0;
  }
}

async function startService(
  dataDir: string,
): Promise<{ child: ChildProcess; base: string; tail: () => string }> {
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      ADMIN_API_KEY: KEY,
      RATE_LIMIT_PER_MINUTE: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  const port = await listeningPort(child);
  return { child, base: `http://127.0.0.1:${port}`, tail: () => out.slice(-3000) };
}

async function serviceRun(base: string, file: string, truth: Truth | undefined): Promise<ServiceRun> {
  const form = new FormData();
  form.set('coachId', COACH);
  form.set('metadata', JSON.stringify({ documentType: 'research', tags: [], accessTier: 'free' }));
  form.set('file', new Blob([bytesOf(file)], { type: 'application/pdf' }), file);
  const started = performance.now();
  const res = await fetch(`${base}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
    body: form,
  });
  const seconds = (performance.now() - started) / 1000;
  const body = (await res.json().catch(() => ({}))) as {
    documentId?: string;
    position?: string;
    code?: string;
  };
  const run: ServiceRun = { file, status: res.status, seconds, search: {} };
  if (res.status !== 201 || !body.documentId) return { ...run, code: body.code ?? `HTTP_${res.status}` };
  for (const word of truth?.words ?? []) {
    const found = await fetch(`${base}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ coachId: COACH, query: word, mode: 'text', k: 50, minPosition: body.position }),
    });
    const results = found.ok
      ? (
          (await found.json()) as {
            results: Array<{ documentId: string; page?: number; metadata: Record<string, unknown> }>;
          }
        ).results.filter((r) => r.documentId === body.documentId)
      : [];
    run.ocrPages ??= results[0]?.metadata.ocrPages;
    run.search[word] = {
      found: results.length > 0,
      onPage: results.some((r) => r.page === truth!.page),
      status: found.status,
    };
  }
  return run;
}

const mark = (ok: boolean) => (ok ? 'yes' : 'no');
const wordsCell = (words: Record<string, boolean>) =>
  Object.keys(words).length === 0
    ? '(none shown)'
    : Object.entries(words)
        .map(([w, ok]) => `${w} ${mark(ok)}`)
        .join(', ');
const pageList = (pages: number[]) =>
  pages.length <= 6 ? pages.join(',') : `${pages.slice(0, 5).join(',')},… (${pages.length})`;

const truths = readTruth(wordsFile);
const files = readdirSync(join(corpus, 'pdf'))
  .filter((f) => f.toLowerCase().endsWith('.pdf'))
  .sort();
const head = (() => {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'src'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} + uncommitted src/` : commit;
  } catch {
    return 'unknown';
  }
})();
const started = new Date();
console.log(
  `# OCR benchmark — ${started.toISOString()}, ${head}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )}; ${files.length} PDFs in ${join(corpus, 'pdf')}; OCR limits: ${DEFAULT_EXTRACTION_LIMITS.ocrMaxPages} pages, ${DEFAULT_EXTRACTION_LIMITS.ocrTimeoutMs / 1000} s\n`,
);

// 1. OCR off: which files have pages without a text layer, and which are refused.
const surveys: Survey[] = [];
for (const file of files) surveys.push(await survey(file));
const scannedFiles = surveys.filter((s) => s.scanned.length > 0);
const refused = surveys.filter((s) => s.code && s.scanned.length === 0);
for (const s of scannedFiles) {
  const own = truths.filter((t) => t.file === s.file);
  if (own.length === 0)
    console.log(`warning: ${s.file} has scanned pages but no ground truth in ${wordsFile}`);
  else if (!own.some((t) => t.page === s.scanned[0]))
    console.log(`warning: ${s.file}'s first scanned page is ${s.scanned[0]}, not a ground-truth page`);
}
for (const t of truths) {
  if (!scannedFiles.some((s) => s.file === t.file && s.scanned.includes(t.page)))
    console.log(`warning: ground truth ${t.file} p${t.page} is not a scanned page of the corpus`);
}

// 2. OCR on, in this process.
const runs: OcrRun[] = [];
for (const s of scannedFiles) {
  const run = await ocrRun(
    s,
    truths.filter((t) => t.file === s.file),
  );
  runs.push(run);
  console.error(`${s.file}: ${run.seconds.toFixed(1)} s, OCR'd ${run.ocrPages.length}/${run.scanned}`);
}
const benchPeakMb = kb('self', 'VmHWM');

// 3. The same files through the built service.
const service: ServiceRun[] = [];
let servicePeakMb = 0;
let serviceError: string | undefined;
if (withService) {
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-bench-ocr-'));
  const svc = await startService(dataDir);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, kb(svc.child.pid!, 'VmRSS'))), 100);
  let exited: string | undefined;
  svc.child.on('exit', (code, signal) => (exited = `service exited (${code ?? signal})`));
  try {
    for (const s of scannedFiles) {
      const truth = truths.find((t) => t.file === s.file);
      service.push(await serviceRun(svc.base, s.file, truth));
      if (exited) throw new Error(`${exited} during ${s.file}: ${svc.tail()}`);
      console.error(
        `service ${s.file}: HTTP ${service.at(-1)!.status} in ${service.at(-1)!.seconds.toFixed(1)} s`,
      );
    }
  } catch (error) {
    serviceError = error instanceof Error ? error.message : String(error);
  } finally {
    clearInterval(sampler);
    servicePeakMb = Math.max(peak, kb(svc.child.pid!, 'VmHWM'));
    if (!exited) {
      svc.child.kill('SIGTERM');
      await new Promise((r) => svc.child.on('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// The report.
console.log(
  `Files with pages without a text layer (fewer than ${SCANNED_PAGE_CHARS} non-space characters): ${scannedFiles.length} of ${files.length}.`,
);
console.log(
  `Refused with OCR off for another reason: ${refused.map((s) => `${s.file} (${s.code})`).join(', ') || 'none'}.\n`,
);
console.log(
  `| file | pages | scanned pages | OCR'd / skipped | s (OCR off) | s (OCR on) | checked page: words in its text | service: upload | service: search finds it (on the page) |`,
);
console.log('|---|---:|---|---|---:|---:|---|---|---|');
for (const run of runs) {
  const s = surveys.find((x) => x.file === run.file)!;
  const svc = service.find((x) => x.file === run.file);
  const checks = run.checks.length ? run.checks : [{ page: 0, words: {}, chars: 0 }];
  for (const [i, check] of checks.entries()) {
    const first = i === 0;
    const searched = svc
      ? svc.code
        ? '—'
        : Object.entries(svc.search)
            .map(([w, r]) => `${w} ${mark(r.found)}${r.found ? ` (${mark(r.onPage)})` : ''}`)
            .join(', ') || '(no words)'
      : '—';
    console.log(
      `| ${first ? run.file : ''} | ${first ? (run.pages ?? '?') : ''} | ${first ? pageList(s.scanned) : ''} | ${
        first ? `${run.ocrPages.length} / ${run.skippedPages.length}${run.code ? ` (${run.code})` : ''}` : ''
      } | ${first ? run.offSeconds.toFixed(1) : ''} | ${first ? run.seconds.toFixed(1) : ''} | ${
        check.page
          ? `p${check.page} (${fmt(check.chars)} chars): ${wordsCell(check.words)}`
          : '(no ground truth)'
      } | ${first && svc ? `${svc.status}${svc.code ? ` ${svc.code}` : ''}, ${svc.seconds.toFixed(1)} s` : ''} | ${
        first ? searched : ''
      } |`,
    );
  }
}

// Totals: a file's own check is its first ground-truth row (its first scanned page).
const firstCheck = (run: OcrRun) => run.checks[0];
const withWords = runs.filter((r) => Object.keys(firstCheck(r)?.words ?? {}).length > 0);
const anyFound = withWords.filter((r) => Object.values(firstCheck(r)!.words).some(Boolean));
const allFound = withWords.filter((r) => Object.values(firstCheck(r)!.words).every(Boolean));
const wordsChecked = withWords.flatMap((r) => Object.values(firstCheck(r)!.words));
const ocrPages = runs.reduce((n, r) => n + r.ocrPages.length, 0);
const attempted = runs.reduce((n, r) => n + r.scanned - r.skippedPages.length, 0);
const seconds = runs.reduce((n, r) => n + r.seconds, 0);
const extraSeconds = runs.reduce((n, r) => n + Math.max(0, r.seconds - r.offSeconds), 0);
const svcWith = service.filter((s) => Object.keys(s.search).length > 0);
const svcAny = svcWith.filter((s) => Object.values(s.search).some((r) => r.found));
const svcAll = svcWith.filter((s) => Object.values(s.search).every((r) => r.found));
const svcOnPage = svcWith.filter((s) => Object.values(s.search).some((r) => r.onPage));
const totals = {
  scannedFiles: scannedFiles.length,
  filesWithWords: withWords.length,
  ocrPages,
  attemptedPages: attempted,
  skippedPages: runs.reduce((n, r) => n + r.skippedPages.length, 0),
  seconds: Number(seconds.toFixed(1)),
  ocrPagesPerSecond: Number((ocrPages / seconds).toFixed(3)),
  attemptedPagesPerSecond: Number((attempted / seconds).toFixed(3)),
  secondsPerAttemptedPageOverOcrOff: Number((extraSeconds / attempted).toFixed(2)),
  wordsFound: wordsChecked.filter(Boolean).length,
  wordsChecked: wordsChecked.length,
  filesAnyWord: anyFound.length,
  filesAllWords: allFound.length,
  benchPeakRssMb: Math.round(benchPeakMb),
  ...(withService
    ? {
        serviceUploaded: service.filter((s) => s.status === 201).length,
        serviceFilesAnyWord: svcAny.length,
        serviceFilesAllWords: svcAll.length,
        serviceFilesOnPage: svcOnPage.length,
        serviceFilesWithWords: svcWith.length,
        servicePeakRssMb: Math.round(servicePeakMb),
        ...(serviceError ? { serviceError } : {}),
      }
    : {}),
};
console.log('');
console.log(
  `OCR'd pages/s: ${totals.ocrPagesPerSecond} (${ocrPages} pages whose text came from OCR in ${totals.seconds} s, the whole extraction of the ${runs.length} files); pages given to the OCR: ${attempted} (${totals.attemptedPagesPerSecond}/s), ${totals.secondsPerAttemptedPageOverOcrOff} s each over the time without OCR; skipped by the limits: ${totals.skippedPages}.`,
);
console.log(
  `Words found on their page: ${totals.wordsFound} of ${totals.wordsChecked}; files searchable by a word they show: any ${anyFound.length} / all ${allFound.length} of ${withWords.length} (${runs.length - withWords.length} show none).`,
);
if (withService) {
  console.log(
    `Service: ${totals.serviceUploaded} of ${service.length} uploads 201; files found by text search for a word they show: any ${svcAny.length} / all ${svcAll.length} of ${svcWith.length} (a hit on the checked page: ${svcOnPage.length}); service peak RSS ${fmt(servicePeakMb)} MB; this process's peak RSS ${fmt(benchPeakMb)} MB.`,
  );
}
if (serviceError) console.log(`Service run stopped: ${serviceError}`);
console.log(
  JSON.stringify({
    bench: 'ocr',
    date: started.toISOString(),
    commit: head,
    corpus,
    totals,
    refused: refused.map((s) => ({ file: s.file, code: s.code })),
    files: runs.map((r) => ({
      ...r,
      offSeconds: Number(r.offSeconds.toFixed(2)),
      seconds: Number(r.seconds.toFixed(2)),
      service: service.find((s) => s.file === r.file),
    })),
  }),
);
if (serviceError) process.exitCode = 1;
