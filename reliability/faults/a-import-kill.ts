/**
 * Scenario (a): SIGKILL during a folder import, then during the projection of what it imported. Properties: no
 * committed event lost, each file one document (by path and by file hash), one event each, the second run
 * finishes; after the restart the projector catches up with no duplicated chunk and the same chunks as an
 * uninterrupted import and projection of the same folder.
 */
import {
  anomalyTotal,
  chunkAnomalies,
  chunksByPath,
  chunksCaughtUp,
  missingFrom,
  type ChunkAnomalies,
} from './checks.js';
import type { Database } from './databases.js';
import { generateLibrary, type Library } from './library.js';
import { baseEnv, spawnCli, startServe, until, type CliRunner } from './processes.js';
import { round } from './reporting.js';
import { cliSteps, importArgs, randomInt, type Outcome, type Steps } from './steps.js';

export interface ImportFixture {
  cli: CliRunner;
  steps: Steps;
  db: Database;
  library: Library;
  env: Record<string, string>;
  /** The chunks of one uninterrupted import and projection of the same folder (coach `ref`). */
  reference: string[];
  dispose(): Promise<void>;
}

export async function importFixture(o: {
  cli: CliRunner;
  serverUrl: string;
  files: number;
  dataDir: string;
  steps?: Steps;
}): Promise<ImportFixture> {
  const steps = o.steps ?? cliSteps(o.cli);
  const env = baseEnv(o.dataDir);
  const db = await steps.createDatabase(o.serverUrl, env);
  const library = generateLibrary(o.files, 17);
  const envDb = { ...env, DATABASE_URL: db.url };
  const clean = await steps.run(importArgs(library, 'ref'), envDb);
  if (clean.code !== 0) throw new Error(`the reference import failed: ${clean.stderr.slice(-2000)}`);
  await steps.project(db, envDb);
  const reference = await chunksByPath(db, 'ref');
  return {
    cli: o.cli,
    steps,
    db,
    library,
    env: envDb,
    reference,
    async dispose() {
      library.remove();
      await db.drop();
    },
  };
}

export interface ImportKillFigures {
  files: number;
  /** Documents of the coach committed when the import was killed, and the kill point aimed at. */
  documentsAtKill: number;
  killTarget: number;
  /** The kill came before the import had written every file. */
  killedMidImport: boolean;
  eventsBeforeKill: number;
  lostEvents: number;
  secondRun: { code: number | null; created: number; unchanged: number; duplicates: number; failed: number };
  documents: number;
  doubledDocuments: number;
  doubledPaths: number;
  streamsWithExtraEvents: number;
  filesMissing: number;
  /** The service killed while projecting: documents with chunks at the kill, of `files`. */
  chunkedDocumentsAtKill: number;
  killedMidProjection: boolean;
  catchUpSeconds: number;
  anomalies: ChunkAnomalies;
  chunks: number;
  chunksMissingVsReference: number;
  chunksExtraVsReference: number;
}

export async function importKillOnce(fx: ImportFixture, repeat: number): Promise<Outcome<ImportKillFigures>> {
  const { db, library, cli } = fx;
  const coach = `killed-${repeat}-${Date.now().toString(36)}`;
  const n = library.files.length;
  const violations: string[] = [];
  const docsOf = async () =>
    Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM documents WHERE coach_id = $1', [coach]))[0]!
        .n,
    );
  const eventIds = async () =>
    (
      await db.query<{ id: string }>(
        `SELECT e.event_id::text AS id FROM events e JOIN documents d ON e.stream_id = 'document-' || d.document_id
         WHERE d.coach_id = $1`,
        [coach],
      )
    ).map((r) => r.id);

  // 1. The import, SIGKILLed once the database holds `killTarget` of its documents.
  const killTarget = randomInt(1, Math.max(1, Math.floor(n * 0.9)));
  const run = spawnCli(cli, importArgs(library, coach, '--concurrency', String(randomInt(1, 4))), fx.env);
  let exitedFirst = false;
  await until(
    async () => (run.child.exitCode !== null ? (exitedFirst = true) : (await docsOf()) >= killTarget),
    300_000,
    `${killTarget} documents imported`,
    5,
  );
  const acknowledged = await eventIds(); // committed before the kill: these must all survive it
  await run.kill('SIGKILL');
  const documentsAtKill = await docsOf();
  const killedMidImport = !exitedFirst && documentsAtKill < n;
  if (!killedMidImport) violations.push('the import ended before it could be killed (use more files)');
  const present = new Set(await eventIds());
  const lostEvents = acknowledged.filter((id) => !present.has(id)).length;
  if (lostEvents > 0) violations.push(`${lostEvents} events committed before the kill are gone`);

  // 2. Run again: it finishes, and every file is one document.
  const second = await fx.steps.run(importArgs(library, coach), fx.env);
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(second.stdout) as Record<string, unknown>;
  } catch {
    violations.push(`the second run printed no report: ${second.stderr.slice(-500)}`);
  }
  const secondRun = {
    code: second.code,
    created: Number(report.created ?? -1),
    unchanged: Number(report.unchanged ?? -1),
    duplicates: Number(report.duplicates ?? -1),
    failed: Array.isArray(report.failed) ? report.failed.length : -1,
  };
  if (second.code !== 0)
    violations.push(`the second run exited ${second.code}: ${second.stderr.slice(-500)}`);
  if (secondRun.created + secondRun.unchanged !== n || secondRun.duplicates !== 0 || secondRun.failed !== 0)
    violations.push(`the second run reported ${JSON.stringify(secondRun)} for ${n} files`);
  const [counts] = await db.query<{ documents: string; paths: string; hashes: string }>(
    `SELECT count(*) AS documents, count(DISTINCT source_path) AS paths, count(DISTINCT source_sha256) AS hashes
     FROM documents WHERE coach_id = $1`,
    [coach],
  );
  const documents = Number(counts!.documents);
  const doubledDocuments = documents - Number(counts!.hashes);
  const doubledPaths = documents - Number(counts!.paths);
  const [extra] = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM documents d WHERE d.coach_id = $1
       AND (SELECT count(*) FROM events e WHERE e.stream_id = 'document-' || d.document_id) <> 1`,
    [coach],
  );
  const streamsWithExtraEvents = Number(extra!.n);
  const hashes = new Set(
    (
      await db.query<{ h: string }>('SELECT source_sha256 AS h FROM documents WHERE coach_id = $1', [coach])
    ).map((r) => r.h),
  );
  const filesMissing = library.files.filter((f) => !hashes.has(f.sha256)).length;
  if (documents !== n) violations.push(`${documents} documents for ${n} files`);
  if (doubledDocuments > 0) violations.push(`${doubledDocuments} documents share a file hash`);
  if (doubledPaths > 0) violations.push(`${doubledPaths} documents share a path`);
  if (streamsWithExtraEvents > 0)
    violations.push(`${streamsWithExtraEvents} documents have other than one event`);
  if (filesMissing > 0) violations.push(`${filesMissing} files have no document`);

  // 3. The service projects the import; SIGKILLed once `chunkTarget` documents have chunks, then started again.
  const chunked = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          'SELECT count(DISTINCT document_id) AS n FROM chunks WHERE coach_id = $1',
          [coach],
        )
      )[0]!.n,
    );
  // In the first half: a watcher starved of CPU on a busy machine must still see the point before the end.
  const chunkTarget = randomInt(1, Math.max(1, Math.floor(n / 2)));
  const projectingEnv = { ...fx.env, PROJECTOR_BATCH_SIZE: String(randomInt(5, 20)) };
  const first = await startServe(cli, projectingEnv);
  await until(async () => (await chunked()) >= chunkTarget || (await chunksCaughtUp(db)), 600_000, 'chunks');
  await first.kill('SIGKILL');
  const chunkedDocumentsAtKill = await chunked();
  const killedMidProjection = chunkedDocumentsAtKill < n;
  if (!killedMidProjection) violations.push('the projection had caught up before the kill (use more files)');
  const catchUpSeconds = await fx.steps.project(db, fx.env);
  const anomalies = await chunkAnomalies(db, coach);
  if (anomalyTotal(anomalies) > 0) violations.push(`chunk anomalies: ${JSON.stringify(anomalies)}`);
  const mine = await chunksByPath(db, coach);
  const chunksMissingVsReference = missingFrom(fx.reference, mine);
  const chunksExtraVsReference = missingFrom(mine, fx.reference);
  if (chunksMissingVsReference + chunksExtraVsReference > 0)
    violations.push(
      `chunks differ from an uninterrupted run: ${chunksMissingVsReference} missing, ${chunksExtraVsReference} extra`,
    );
  return {
    figures: {
      files: n,
      documentsAtKill,
      killTarget,
      killedMidImport,
      eventsBeforeKill: acknowledged.length,
      lostEvents,
      secondRun,
      documents,
      doubledDocuments,
      doubledPaths,
      streamsWithExtraEvents,
      filesMissing,
      chunkedDocumentsAtKill,
      killedMidProjection,
      catchUpSeconds: round(catchUpSeconds),
      anomalies,
      chunks: mine.length,
      chunksMissingVsReference,
      chunksExtraVsReference,
    },
    violations,
  };
}
