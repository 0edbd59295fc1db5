/**
 * Faults (issue 17), each repeated: `tsx reliability/faults.ts [--only a,b,c,d] [--repeats 10] [--files 600]
 * [--down-seconds 5] [--hang-seconds 60] [--fail-seconds 10] [--source]`.
 *
 * a. SIGKILL during `docsvc import <dir>` (on the database), at a random point found from the rows committed;
 *    the import run again. Then `docsvc serve` SIGKILLed while it projects those documents, and started again.
 *    Properties: no committed event lost, each file one document (by path and by file hash), one event each, the
 *    second run finishes; after the restart the projector catches up with no duplicated chunk and the same chunks
 *    as an uninterrupted import and projection of the same folder.
 * b. SIGKILL during `docsvc rebuild` (chunks: killed at a random number of events applied, then resumed by a
 *    restarted service or rebuilt again; documents and document_versions: killed inside their one transaction,
 *    then rebuilt again). Properties: every read model (and the BM25 statistics) equals an uninterrupted rebuild,
 *    no chunk duplicated, a resumed rebuild goes on from its checkpoint.
 * c. A private PostgreSQL 15 cluster (its own directory and port; the shared server is never touched) stopped
 *    (`pg_ctl stop -m fast`) for `--down-seconds` under uploads and searches, then started. Properties: requests
 *    while down answer 503 within the client's deadline (10 s), the same service process answers again by itself,
 *    every acknowledged write is in the log, the projector catches up.
 * d. An OpenAI-compatible stand-in answering 500, then 429, then hanging, then recovering, while uploads go on.
 *    Properties: no upload fails, the chunks projection waits (never passes an upload made during the failure)
 *    and catches up after, no dead letter, every document has its chunks, and they equal those of a second
 *    service whose provider never failed, given the same uploads.
 *
 * The built service by default (`npm run build` first); `--source` runs src/ through tsx. PostgreSQL: the server of
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) gets fresh databases, dropped at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importFixture, importKillOnce } from './faults/a-import-kill.js';
import { REBUILD_KINDS, rebuildFixture, rebuildKillOnce } from './faults/b-rebuild-kill.js';
import { restartFixture, restartOnce } from './faults/c-postgres-restart.js';
import { providerFixture, providerOnce } from './faults/d-provider-failure.js';
import { builtCli, sourceCli } from './faults/processes.js';
import { arg, note, round } from './faults/reporting.js';
import type { Outcome } from './faults/steps.js';

const only = arg('only', 'a,b,c,d').split(',');
const repeats = Number(arg('repeats', '10'));
const files = Number(arg('files', '600'));
const downMs = Number(arg('down-seconds', '5')) * 1000;
const hangMs = Number(arg('hang-seconds', '60')) * 1000;
const failMs = Number(arg('fail-seconds', '10')) * 1000;
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// --cli-root <dir>: another build of the service (a copy of dist/ with a candidate fix, beside node_modules).
const cliRoot = arg('cli-root', '');
const cli = cliRoot
  ? [process.execPath, join(cliRoot, 'dist/src/main.js')]
  : process.argv.includes('--source')
    ? sourceCli
    : builtCli;
const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-faults-data-'));

type Summary = Record<string, unknown>;
const result: Record<string, Summary> = {};
let failed = 0;

const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : 0);

async function repeat<F>(name: string, run: (i: number) => Promise<Outcome<F>>): Promise<Array<Outcome<F>>> {
  const outcomes: Array<Outcome<F>> = [];
  for (let i = 0; i < repeats; i++) {
    const started = Date.now();
    try {
      const outcome = await run(i);
      outcomes.push(outcome);
      note(
        `${name} #${i + 1}/${repeats}: ${outcome.violations.length === 0 ? 'held' : `FAILED: ${outcome.violations.join('; ')}`} ` +
          `(${round((Date.now() - started) / 1000)} s) ${JSON.stringify(outcome.figures)}`,
      );
    } catch (error) {
      note(`${name} #${i + 1}/${repeats}: ERROR ${(error as Error).stack ?? error}`);
      outcomes.push({ figures: {} as F, violations: [`error: ${(error as Error).message}`] });
    }
  }
  return outcomes;
}

function violationsOf(outcomes: Array<Outcome<unknown>>): string[] {
  return outcomes.flatMap((o, i) => o.violations.map((v) => `#${i + 1}: ${v}`));
}

async function scenario(name: string, run: () => Promise<Summary>): Promise<void> {
  if (!only.includes(name[0]!)) return;
  note(`== ${name}`);
  const started = Date.now();
  try {
    const summary = await run();
    summary.seconds = round((Date.now() - started) / 1000);
    result[name] = summary;
    const violations = summary.violations as string[];
    if (violations.length > 0) failed++;
    note(`== ${name}: ${violations.length === 0 ? 'held' : `FAILED (${violations.length})`}`);
  } catch (error) {
    failed++;
    result[name] = { error: (error as Error).message };
    note(`== ${name}: ERROR ${(error as Error).stack ?? error}`);
  }
}

await scenario('a-import-kill', async () => {
  const fx = await importFixture({ cli, serverUrl, files, dataDir });
  try {
    note(`reference: ${fx.reference.length} chunks for ${files} files`);
    const outcomes = await repeat('a', (i) => importKillOnce(fx, i));
    const f = outcomes.map((o) => o.figures).filter((x) => x.files !== undefined);
    return {
      repeats: outcomes.length,
      files,
      killedMidImport: f.filter((x) => x.killedMidImport).length,
      documentsAtKill: f.map((x) => x.documentsAtKill),
      lostEvents: sum(f.map((x) => x.lostEvents)),
      doubledDocuments: sum(f.map((x) => x.doubledDocuments + x.doubledPaths + x.streamsWithExtraEvents)),
      filesMissing: sum(f.map((x) => x.filesMissing)),
      secondRunsFinished: f.filter((x) => x.secondRun.code === 0).length,
      killedMidProjection: f.filter((x) => x.killedMidProjection).length,
      chunkedDocumentsAtKill: f.map((x) => x.chunkedDocumentsAtKill),
      duplicatedChunks: sum(
        f.map((x) => x.anomalies.sameKey + x.anomalies.sameRange + x.anomalies.mixedCurrent),
      ),
      chunkAnomalies: sum(f.map((x) => Object.values(x.anomalies).reduce((s, n) => s + n, 0))),
      chunksPerRun: f.map((x) => x.chunks),
      referenceChunks: fx.reference.length,
      chunksDifferingFromReference: sum(f.map((x) => x.chunksMissingVsReference + x.chunksExtraVsReference)),
      catchUpSecondsMax: max(f.map((x) => x.catchUpSeconds)),
      catchUpSecondsMedian: median(f.map((x) => x.catchUpSeconds)),
      violations: violationsOf(outcomes),
    };
  } finally {
    await fx.dispose();
  }
});

await scenario('b-rebuild-kill', async () => {
  const fx = await rebuildFixture({ cli, serverUrl, files, dataDir });
  try {
    note(`rebuild fixture: ${fx.events} events; inline rebuilds ${JSON.stringify(fx.inlineMs)} ms`);
    const outcomes = await repeat('b', (i) => rebuildKillOnce(fx, REBUILD_KINDS[i % REBUILD_KINDS.length]!));
    const f = outcomes.map((o) => o.figures).filter((x) => x.kind !== undefined);
    return {
      repeats: outcomes.length,
      events: fx.events,
      kinds: f.map((x) => x.kind),
      killedMidRebuild: f.filter((x) => x.killedMidRebuild).length,
      appliedAtKill: f.filter((x) => x.appliedAtKill !== undefined).map((x) => x.appliedAtKill),
      resumed: f.filter((x) => x.resumed === true).length,
      resumeRuns: f.filter((x) => x.resumed !== undefined).length,
      inlineIntactAfterKill: f.filter((x) => x.intactAfterKill === true).length,
      inlineRuns: f.filter((x) => x.intactAfterKill !== undefined).length,
      readModelsDiffering: sum(f.map((x) => x.differing.length)),
      duplicatedChunks: sum(
        f.map((x) => x.anomalies.sameKey + x.anomalies.sameRange + x.anomalies.mixedCurrent),
      ),
      chunkAnomalies: sum(f.map((x) => Object.values(x.anomalies).reduce((s, n) => s + n, 0))),
      finishSecondsMax: max(f.map((x) => x.finishSeconds)),
      violations: violationsOf(outcomes),
    };
  } finally {
    await fx.dispose();
  }
});

await scenario('c-postgres-restart', async () => {
  const fx = await restartFixture({ cli, dataDir });
  try {
    note(`private cluster on port ${fx.cluster.port}, service on ${fx.svc.base}`);
    const outcomes = await repeat('c', () => restartOnce(fx, { downMs, concurrency: 4, hangMs: 10_000 }));
    const f = outcomes.map((o) => o.figures).filter((x) => x.downSeconds !== undefined);
    const statuses: Record<string, number> = {};
    for (const x of f)
      for (const [k, v] of Object.entries(x.statusesWhileDown)) statuses[k] = (statuses[k] ?? 0) + v;
    const across: Record<string, number> = {};
    for (const x of f)
      for (const [k, v] of Object.entries(x.statusesAcrossTransitions)) across[k] = (across[k] ?? 0) + v;
    return {
      repeats: outcomes.length,
      downSeconds: f.map((x) => x.downSeconds),
      requestsWhileDown: sum(f.map((x) => x.requestsWhileDown)),
      statusesWhileDown: statuses,
      max503MsWhileDown: max(f.map((x) => x.max503MsWhileDown)),
      maxMsWhileDown: max(f.map((x) => x.maxMsWhileDown)),
      statusesAcrossTransitions: across,
      maxMsAcrossTransitions: max(f.map((x) => x.maxMsAcrossTransitions)),
      hung: sum(f.map((x) => x.hung)),
      serviceCrashes: fx.crashes.length,
      refusedConnections: sum(f.map((x) => x.refusedConnections)),
      recoverSeconds: f.map((x) => x.recoverSeconds),
      recoverSecondsMax: max(f.map((x) => x.recoverSeconds)),
      sameProcessThroughout: f.every((x) => x.sameProcess),
      acknowledgedWrites: sum(f.map((x) => x.acknowledgedWrites)),
      missingWrites: sum(f.map((x) => x.missingWrites)),
      projectorCaughtUpSecondsMax: max(f.map((x) => x.projectorCaughtUpSeconds)),
      chunkAnomalies: sum(f.map((x) => Object.values(x.anomalies).reduce((s, n) => s + n, 0))),
      violations: violationsOf(outcomes),
    };
  } finally {
    await fx.dispose();
  }
});

await scenario('d-embedding-provider', async () => {
  const fx = await providerFixture({ cli, serverUrl, dataDir });
  try {
    const outcomes = await repeat('d', (i) =>
      providerOnce(fx, i, { fail500Ms: failMs, fail429Ms: failMs, hangMs, uploadEveryMs: 500 }),
    );
    const f = outcomes.map((o) => o.figures).filter((x) => x.uploads !== undefined);
    const requests: Record<string, number> = {};
    for (const x of f)
      for (const [k, v] of Object.entries(x.requestsByMode)) requests[k] = (requests[k] ?? 0) + v;
    return {
      repeats: outcomes.length,
      phaseSeconds: { fail500: failMs / 1000, fail429: failMs / 1000, hang: hangMs / 1000 },
      providerRequestsByMode: requests,
      uploads: sum(f.map((x) => x.uploads)),
      uploadsFailed: sum(f.map((x) => x.uploadsFailed)),
      uploadsDuringFailure: sum(f.map((x) => x.uploadsDuringFailure)),
      projectionWaited: f.filter((x) => x.projectionWaited).length,
      recoverSeconds: f.map((x) => x.recoverSeconds),
      recoverSecondsMax: max(f.map((x) => x.recoverSeconds)),
      documentsWithoutChunks: sum(f.map((x) => x.documentsWithoutChunks)),
      deadLetters: max(f.map((x) => x.deadLetters)),
      chunks: sum(f.map((x) => x.chunks)),
      cleanChunks: sum(f.map((x) => x.cleanChunks)),
      chunksDifferingFromClean: sum(f.map((x) => x.chunksMissingVsClean + x.chunksExtraVsClean)),
      violations: violationsOf(outcomes),
    };
  } finally {
    await fx.dispose();
  }
});

rmSync(dataDir, { recursive: true, force: true });
for (const dir of [`${dataDir}-faulty`, `${dataDir}-clean`]) rmSync(dir, { recursive: true, force: true });
process.stdout.write(`RESULT ${JSON.stringify({ repeats, files, ...result })}\n`);
process.exitCode = failed > 0 ? 1 : 0;
